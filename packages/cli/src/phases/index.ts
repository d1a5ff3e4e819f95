/**
 * The body of every phase of a run, by phase name (`kzr phase run` calls them). Each is loaded
 * on demand, so a phase that needs no TensorFlow.js (split, pseudo-label) does not load it.
 */
import { PhaseName } from '@kzr/pipeline';

import type { PhaseBody } from './context.js';

export const phaseBodies: Readonly<Record<PhaseName, () => Promise<PhaseBody>>> = {
  [PhaseName.Preprocess]: async () => (await import('./preprocess.js')).preprocessPhase,
  [PhaseName.Split]: async () => (await import('./split.js')).splitPhase,
  [PhaseName.FirstTrain]: async () => (await import('./train.js')).firstTrainPhase,
  [PhaseName.FirstInfer]: async () => (await import('./first-stage.js')).firstInferPhase,
  [PhaseName.FirstFilter]: async () => (await import('./first-stage.js')).firstFilterPhase,
  [PhaseName.PseudoLabel]: async () => (await import('./pseudo-label.js')).pseudoLabelPhase,
  [PhaseName.SecondTrain]: async () => (await import('./train.js')).secondTrainPhase,
  [PhaseName.Refine]: async () => (await import('./train.js')).refinePhase,
  [PhaseName.FinalInfer]: async () => (await import('./final-stage.js')).finalInferPhase,
  [PhaseName.Publish]: async () => (await import('./publish.js')).publishPhase,
};

export type { PhaseBody, PhaseContext, PhaseInput, PhaseResult } from './context.js';
