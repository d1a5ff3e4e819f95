/** The body of every phase of a run, by phase name (`kzr phase run` calls them). */
import { PhaseName } from '@kzr/pipeline';

import type { PhaseBody } from './context.js';
import { finalInferPhase } from './final-stage.js';
import { firstFilterPhase, firstInferPhase } from './first-stage.js';
import { preprocessPhase } from './preprocess.js';
import { pseudoLabelPhase } from './pseudo-label.js';
import { publishPhase } from './publish.js';
import { splitPhase } from './split.js';
import { firstTrainPhase, refinePhase, secondTrainPhase } from './train.js';

export const phaseBodies: Readonly<Record<PhaseName, PhaseBody>> = {
  [PhaseName.Preprocess]: preprocessPhase,
  [PhaseName.Split]: splitPhase,
  [PhaseName.FirstTrain]: firstTrainPhase,
  [PhaseName.FirstInfer]: firstInferPhase,
  [PhaseName.FirstFilter]: firstFilterPhase,
  [PhaseName.PseudoLabel]: pseudoLabelPhase,
  [PhaseName.SecondTrain]: secondTrainPhase,
  [PhaseName.Refine]: refinePhase,
  [PhaseName.FinalInfer]: finalInferPhase,
  [PhaseName.Publish]: publishPhase,
};

export type { PhaseBody, PhaseContext, PhaseInput, PhaseResult } from './context.js';
