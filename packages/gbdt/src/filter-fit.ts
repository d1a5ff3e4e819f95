/**
 * Fitting a false-positive filter (spec §6.2): features and Kaggle-matching labels of every box
 * of the training pages, an optional TPE search, a stratified k-fold CV with early stopping whose
 * fold boosters form the filter, and the keep threshold tuned on the out-of-fold predictions.
 * Step-wise (a generator), so the gRPC stream reports progress and the event loop stays free.
 *
 * It lives with the trees rather than in the postprocess service because a run's filter phase
 * (a trainer Job) fits the same filter and may not import a service (DESIGN.md "Layers").
 */
import type { CharLabel } from '@kzr/core';
import {
  FP_FEATURE_COUNT,
  FP_FEATURE_NAMES,
  falsePositiveFeatures,
  falsePositiveLabels,
  tuneThreshold,
  type ClassifiedPage,
} from '@kzr/core/postprocess';

import { crossValidateSteps, outOfFoldPredictions } from './cv.js';
import { DataError } from './errors.js';
import { resolveParams } from './params.js';
import { searchSteps } from './search.js';
import type { Booster } from './model.js';
import type { LabeledData } from './trainer.js';

/** The upstream final booster's parameters (§6.2), used when no search runs. */
export const UPSTREAM_FILTER_PARAMS: Readonly<Record<string, number>> = Object.freeze({
  lambda_l1: 0.002050689306354841,
  lambda_l2: 0.49425078611198464,
  num_leaves: 203,
  feature_fraction: 0.8606773005600517,
  bagging_fraction: 0.9526576962122715,
  bagging_freq: 2,
  min_child_samples: 66,
});

/** Fixed parameters of every fit: upstream's `max_depth` 7, `max_bin` 255, 200 rounds, early stopping 50. */
export const FILTER_BASE_PARAMS: Readonly<Record<string, number>> = Object.freeze({
  max_depth: 7,
  max_bin: 255,
  learning_rate: 0.1,
});

/** Options of {@link fitFilterSteps}. */
export interface FitOptions {
  /** @default 5 */
  readonly folds?: number;
  /** Search trials; 0 uses {@link UPSTREAM_FILTER_PARAMS}. @default 0 */
  readonly trials?: number;
  /** @default 7 */
  readonly seed?: number;
  /** CV rounds (early stopping 50 on the mean loss). @default 200 */
  readonly rounds?: number;
  /** Rounds per search trial. @default 100 */
  readonly searchRounds?: number;
}

/** A progress step of a fit. */
export type FitStep =
  { stage: 'search'; trial: number; objective: number } | { stage: 'cv'; iteration: number; objective: number };

/** What a finished fit produced. */
export interface FitResult {
  readonly boosters: Booster[];
  readonly threshold: number;
  readonly fit: Record<string, unknown>;
}

/** Features and labels of every box of the pages; pages must all have truth. */
export function trainingTable(
  pages: readonly ClassifiedPage[],
  truthByPage: ReadonlyMap<string, readonly CharLabel[]>,
): LabeledData & { perPage: number[] } {
  const blocks: Float64Array[] = [];
  const labels: number[] = [];
  const perPage: number[] = [];
  pages.forEach((page, p) => {
    const truth = truthByPage.get(page.pageId);
    if (truth === undefined)
      throw new DataError(`predictions[${p}].pageId`, `page "${page.pageId}" has no ground truth`);
    blocks.push(falsePositiveFeatures(page, `predictions[${p}]`));
    labels.push(...falsePositiveLabels(page, truth));
    perPage.push(page.boxes.length);
  });
  const numRows = labels.length;
  const values = new Float64Array(numRows * FP_FEATURE_COUNT);
  let offset = 0;
  for (const block of blocks) {
    values.set(block, offset);
    offset += block.length;
  }
  if (numRows < 10) throw new DataError('predictions', `${numRows} boxes are too few to fit a filter`);
  const positives = labels.reduce((s, y) => s + y, 0);
  if (positives === 0 || positives === numRows) {
    throw new DataError('predictions', 'the boxes are all correct or all wrong; nothing to learn');
  }
  return {
    features: { numRows, numFeatures: FP_FEATURE_COUNT, values },
    labels: Float64Array.from(labels),
    perPage,
  };
}

/** Fits a filter step by step; the generator's return value is the {@link FitResult}. */
export function* fitFilterSteps(
  pages: readonly ClassifiedPage[],
  truthByPage: ReadonlyMap<string, readonly CharLabel[]>,
  options: FitOptions = {},
): Generator<FitStep, FitResult, void> {
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 7;
  const trials = options.trials ?? 0;
  const data = trainingTable(pages, truthByPage);
  let chosen: Record<string, number> = { ...UPSTREAM_FILTER_PARAMS };
  let searchValue: number | undefined;
  if (trials > 0) {
    const search = searchSteps(data, {
      trials,
      folds: Math.min(folds, 3),
      seed,
      numBoostRound: options.searchRounds ?? 100,
      baseParams: FILTER_BASE_PARAMS,
      featureNames: FP_FEATURE_NAMES,
    });
    for (;;) {
      const next = search.next();
      if (next.done === true) {
        chosen = { ...next.value.bestParams };
        searchValue = next.value.best.value;
        break;
      }
      yield { stage: 'search', trial: next.value.trial.number, objective: next.value.trial.value };
    }
  }
  const params = resolveParams({
    ...FILTER_BASE_PARAMS,
    ...chosen,
    num_iterations: options.rounds ?? 200,
    early_stopping_round: 50,
    seed,
  });
  const cv = crossValidateSteps(data, params, { folds, seed, featureNames: FP_FEATURE_NAMES });
  let next = cv.next();
  while (next.done !== true) {
    yield { stage: 'cv', iteration: next.value.iteration, objective: next.value.meanLoss };
    next = cv.next();
  }
  const result = next.value;
  // Out-of-fold P(correct) of every box, then the threshold that maximises F1 on them.
  const oof = outOfFoldPredictions(result.boosters, result.foldOf, data.features);
  const scores: Float64Array[] = [];
  let start = 0;
  for (const count of data.perPage) {
    scores.push(oof.subarray(start, start + count));
    start += count;
  }
  const truths = pages.map((page) => truthByPage.get(page.pageId) as readonly CharLabel[]);
  const tuned = tuneThreshold(pages, scores, truths);
  return {
    boosters: result.boosters,
    threshold: tuned.threshold,
    fit: {
      folds,
      seed,
      trials,
      rows: data.features.numRows,
      bestIteration: result.bestIteration,
      cvLoss: result.meanLosses[result.bestIteration - 1],
      params: chosen,
      ...(searchValue !== undefined ? { searchObjective: searchValue } : {}),
      oofF1AtThreshold: tuned.f1,
    },
  };
}
