/**
 * The final phase of a run's evaluation (DESIGN.md "Runs" 9): the test pages recognised with the
 * second-training models and with the refined models (soft voting, the first filter), then with
 * the refined models by hard voting and a filter fitted afresh on their val-page candidates: the
 * result that is published. Each stage's submission goes to `results/<run>/submission-<stage>.csv`
 * and the per-stage table (with the first two stages and the pseudo-label count) to
 * `results/<run>/stages.json`; the run report (./report.ts) to `results/<run>/report.html`.
 */
import { resultKey, RunStage, type StageRow, writeStagesReport } from '@kzr/artifacts';
import { type F1Score, formatSubmissionCsv } from '@kzr/core';
import { type ClassifiedPage, submissionRows } from '@kzr/core/postprocess';
import { PhaseName, phaseId } from '@kzr/pipeline';

import { inputOf, type PhaseBody, type PhaseContext, writeJsonMember } from './context.js';
import { readPhaseDataset } from './dataset.js';
import { readPages } from './first-stage.js';
import { fitRunFilter, readRunFilter, writeRunFilter } from './filter.js';
import { filterProbabilities, keepFiltered, recognizeStage, scorePages } from './recognition.js';
import { writeRunReport } from './report.js';

/** Writes a stage's submission under `results/<run>/`; returns the file's name. */
async function writeSubmission(ctx: PhaseContext, stage: RunStage, pages: readonly ClassifiedPage[]): Promise<string> {
  const file = `submission-${stage.replace('+', '-')}.csv`;
  await ctx.store.put(resultKey(ctx.run, file), Buffer.from(formatSubmissionCsv(submissionRows(pages))), {
    contentType: 'text/csv',
  });
  return file;
}

export const finalInferPhase: PhaseBody = async (ctx) => {
  const data = await readPhaseDataset(ctx.store, ctx.dataset, ctx.spec);
  const models = (phase: PhaseName): string[] => ctx.spec.models.map((m) => phaseId(phase, m.name));
  const firstInfer = inputOf(ctx, PhaseName.FirstInfer);
  const firstFilterInput = inputOf(ctx, PhaseName.FirstFilter);
  const firstFilter = await readRunFilter(ctx, firstFilterInput);
  const withFirstFilter = (pages: ClassifiedPage[]): ClassifiedPage[] =>
    keepFiltered(pages, filterProbabilities(pages, firstFilter.boosters), firstFilter.threshold);
  const rows: StageRow[] = [];
  const addStage = async (stage: RunStage, pages: ClassifiedPage[]): Promise<F1Score> => {
    const score = scorePages(data, pages);
    rows.push({ stage, ...score, submission: await writeSubmission(ctx, stage, pages) });
    ctx.progress({ type: 'stage', stage, ...score });
    return score;
  };

  const firstTest = await readPages(ctx, firstInfer, 'test.json');
  await addStage(RunStage.First, firstTest);
  await addStage(RunStage.FirstFiltered, withFirstFilter(firstTest));
  const testPages = data.testPages;
  // The second-training models as the first stage was scored: soft voting, first filter.
  const [secondTest] = (await recognizeStage(ctx, data, {
    stage: RunStage.SecondTrain,
    models: models(PhaseName.SecondTrain),
    passes: [{ voting: 'soft', pages: testPages }],
  })) as [ClassifiedPage[]];
  await addStage(RunStage.SecondTrain, withFirstFilter(secondTest));
  // The refined models twice: as the first stage was scored, and by hard voting with a filter
  // fitted afresh on their val-page candidates (the result that is published).
  const [refineTest, finalVal, finalTest] = (await recognizeStage(ctx, data, {
    stage: RunStage.Refine,
    models: models(PhaseName.Refine),
    passes: [
      { voting: 'soft', pages: testPages },
      { voting: 'hard', pages: data.valPages },
      { voting: 'hard', pages: testPages },
    ],
  })) as [ClassifiedPage[], ClassifiedPage[], ClassifiedPage[]];
  await addStage(RunStage.Refine, withFirstFilter(refineTest));
  const finalFilter = fitRunFilter(ctx, finalVal, data.truth);
  const finalP = filterProbabilities(finalTest, finalFilter.boosters);
  await addStage(RunStage.Final, keepFiltered(finalTest, finalP, finalFilter.threshold));

  const pseudo = inputOf(ctx, PhaseName.PseudoLabel).manifest.summary as { count: number; precision: number };
  await writeStagesReport(ctx.store, { run: ctx.run, stages: rows, pseudoLabels: pseudo });
  const report = await writeRunReport(ctx, data, {
    rows,
    pseudoLabels: pseudo,
    candidates: finalTest,
    pCorrect: finalP,
    filter: finalFilter,
  });
  ctx.progress({ type: 'report', key: report });
  return {
    members: [...(await writeRunFilter(ctx, finalFilter)), await writeJsonMember(ctx, 'stages.json', rows)],
    summary: { stages: rows, pseudoLabels: pseudo },
  };
};
