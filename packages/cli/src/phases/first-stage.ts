/**
 * The first stage of a run (DESIGN.md "Runs" 4-5, spec §7.1): first-infer recognises the val
 * and test pages with the first models (soft voting, TTA, NMS of the detection sets); first-filter
 * fits the false-positive filter on the val pages' candidates and scores the test pages with it.
 */
import type { ClassifiedPage } from '@kzr/core/postprocess';
import { PhaseName, phaseId } from '@kzr/pipeline';

import {
  inputOf,
  type PhaseBody,
  type PhaseContext,
  type PhaseInput,
  readJsonMember,
  writeJsonMember,
} from './context.js';
import { readPhaseDataset } from './dataset.js';
import { fitRunFilter, writeRunFilter } from './filter.js';
import { filterProbabilities, keepFiltered, recognizeStage, scorePages } from './recognition.js';

/** The recognised pages `file` (`val.json`, `test.json`) of an inference phase. */
export function readPages(ctx: PhaseContext, input: PhaseInput, file: string): Promise<ClassifiedPage[]> {
  return readJsonMember<ClassifiedPage[]>(ctx, input, file);
}

export const firstInferPhase: PhaseBody = async (ctx) => {
  const data = await readPhaseDataset(ctx.store, ctx.dataset, ctx.spec);
  const [val, test] = (await recognizeStage(ctx, data, {
    stage: 'first',
    models: ctx.spec.models.map((m) => phaseId(PhaseName.FirstTrain, m.name)),
    passes: [
      { voting: 'soft', pages: data.valPages },
      { voting: 'soft', pages: data.testPages },
    ],
  })) as [ClassifiedPage[], ClassifiedPage[]];
  return {
    members: [await writeJsonMember(ctx, 'val.json', val), await writeJsonMember(ctx, 'test.json', test)],
    summary: { score: scorePages(data, test), valPages: val.length, testPages: test.length },
  };
};

export const firstFilterPhase: PhaseBody = async (ctx) => {
  const data = await readPhaseDataset(ctx.store, ctx.dataset, ctx.spec);
  const infer = inputOf(ctx, PhaseName.FirstInfer);
  const filter = fitRunFilter(ctx, await readPages(ctx, infer, 'val.json'), data.truth);
  const test = await readPages(ctx, infer, 'test.json');
  const p = filterProbabilities(test, filter.boosters);
  return {
    members: [
      ...(await writeRunFilter(ctx, filter)),
      await writeJsonMember(
        ctx,
        'test-p.json',
        p.map((row) => [...row]),
      ),
    ],
    summary: { score: scorePages(data, keepFiltered(test, p, filter.threshold)), threshold: filter.threshold },
  };
};
