/**
 * Stratified k-fold cross-validation in the style of `lgb.cv` with a shuffled
 * `StratifiedKFold`: the k fold boosters train in lockstep, early stopping watches the mean
 * validation loss over the folds, and every booster is cut to the same best iteration. The
 * ensemble prediction is the mean of the fold boosters' probabilities.
 */
import { DataError } from './errors.js';
import { predict, type Booster, type FeatureMatrix } from './model.js';
import type { GbdtParams } from './params.js';
import { LgbRandom } from './random.js';
import { GbdtTrainer, type LabeledData } from './trainer.js';

/** Options of {@link crossValidate}. */
export interface CrossValidateOptions {
  /** Number of folds. @default 5 */
  readonly folds?: number;
  /** Seed of the fold shuffle. @default 7 (the upstream `random_state`) */
  readonly seed?: number;
  readonly featureNames?: readonly string[];
  /** Called after every iteration with the mean validation loss; returning false stops. */
  readonly onIteration?: (iteration: number, meanLoss: number) => boolean | void;
}

/** The result of {@link crossValidate}. */
export interface CrossValidateResult {
  /** One booster per fold, each cut to {@link CrossValidateResult.bestIteration}. */
  readonly boosters: Booster[];
  /** The 1-based iteration with the lowest mean validation loss. */
  readonly bestIteration: number;
  /** Mean validation binary logloss over the folds, per iteration. */
  readonly meanLosses: number[];
  /** The fold (0-based) of every row. */
  readonly foldOf: Int32Array;
}

function shuffle(indices: number[], random: LgbRandom): void {
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random.nextDouble() * (i + 1));
    const tmp = indices[i] as number;
    indices[i] = indices[j] as number;
    indices[j] = tmp;
  }
}

/**
 * Assigns rows to k folds so each fold has the same share of each label (±1 row): the rows of
 * each class are shuffled with the seed and dealt round-robin, continuing from class to class.
 */
export function stratifiedFolds(labels: ArrayLike<number>, folds: number, seed: number): Int32Array {
  if (!Number.isInteger(folds) || folds < 2) throw new DataError('folds', `expected an integer ≥ 2, got ${folds}`);
  const random = new LgbRandom(seed);
  const foldOf = new Int32Array(labels.length);
  let next = 0;
  for (const cls of [0, 1]) {
    const rows: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === cls) rows.push(i);
    shuffle(rows, random);
    for (const row of rows) {
      foldOf[row] = next;
      next = (next + 1) % folds;
    }
  }
  for (let k = 0; k < folds; k++) {
    if (!foldOf.includes(k))
      throw new DataError('folds', `${folds} folds for ${labels.length} rows leaves fold ${k} empty`);
  }
  return foldOf;
}

/** The rows of fold `k`, in row order. */
export function foldRows(foldOf: Int32Array, k: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < foldOf.length; i++) if (foldOf[i] === k) rows.push(i);
  return rows;
}

/** The given rows of a matrix, in the given order. */
export function selectRows(matrix: FeatureMatrix, rows: readonly number[]): FeatureMatrix {
  const F = matrix.numFeatures;
  const values = new Float64Array(rows.length * F);
  rows.forEach((row, i) => values.set(matrix.values.subarray(row * F, (row + 1) * F), i * F));
  return { numRows: rows.length, numFeatures: F, values };
}

/** Each row's prediction by the booster of the fold that held it out (`boosters[k]` for fold `k`). */
export function outOfFoldPredictions(
  boosters: readonly Booster[],
  foldOf: Int32Array,
  features: FeatureMatrix,
): Float64Array {
  const oof = new Float64Array(features.numRows);
  boosters.forEach((booster, k) => {
    const rows = foldRows(foldOf, k);
    const p = predict(booster, selectRows(features, rows));
    rows.forEach((row, i) => (oof[row] = p[i] as number));
  });
  return oof;
}

function subset(data: LabeledData, rows: number[]): LabeledData {
  return {
    features: selectRows(data.features, rows),
    labels: Float64Array.from(rows, (row) => data.labels[row] as number),
  };
}

/** Stratified k-fold CV with lockstep early stopping on the mean validation loss. */
export function crossValidate(
  data: LabeledData,
  params: GbdtParams,
  options: CrossValidateOptions = {},
): CrossValidateResult {
  const steps = crossValidateSteps(data, params, options);
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/**
 * {@link crossValidate} one boosting iteration (over all folds) at a time: yields the iteration
 * and its mean validation loss, returns the result.
 */
export function* crossValidateSteps(
  data: LabeledData,
  params: GbdtParams,
  options: CrossValidateOptions = {},
): Generator<{ iteration: number; meanLoss: number }, CrossValidateResult, void> {
  const folds = options.folds ?? 5;
  const foldOf = stratifiedFolds(data.labels, folds, options.seed ?? 7);
  const trainers: GbdtTrainer[] = [];
  const meanLosses: number[] = [];
  let best = { iteration: 0, loss: Infinity };
  try {
    // A fold that fails to start still closes the folds started before it (finally below).
    for (let k = 0; k < folds; k++) trainers.push(foldTrainer(data, params, foldOf, k, options));
    for (let iter = 1; iter <= params.numIterations; iter++) {
      if (trainers.some((t) => t.done)) break;
      let sum = 0;
      for (const trainer of trainers) sum += trainer.step().validLoss ?? NaN;
      if (trainers.some((t) => t.numTrees < iter)) break;
      const mean = sum / folds;
      meanLosses.push(mean);
      if (mean < best.loss) best = { iteration: iter, loss: mean };
      if (options.onIteration?.(iter, mean) === false) break;
      yield { iteration: iter, meanLoss: mean };
      if (params.earlyStoppingRound > 0 && iter - best.iteration >= params.earlyStoppingRound) break;
    }
  } finally {
    for (const trainer of trainers) trainer.close();
  }
  const bestIteration = best.iteration;
  return { boosters: trainers.map((t) => t.booster(bestIteration)), bestIteration, meanLosses, foldOf };
}

/** The trainer of fold `k`: trained on the other folds, validated on fold `k`. */
function foldTrainer(
  data: LabeledData,
  params: GbdtParams,
  foldOf: ArrayLike<number>,
  k: number,
  options: CrossValidateOptions,
): GbdtTrainer {
  const trainRows: number[] = [];
  const validRows: number[] = [];
  for (let i = 0; i < foldOf.length; i++) (foldOf[i] === k ? validRows : trainRows).push(i);
  // Early stopping is decided on the mean over folds, not per fold.
  return new GbdtTrainer(
    subset(data, trainRows),
    { ...params, earlyStoppingRound: 0 },
    {
      valid: subset(data, validRows),
      ...(options.featureNames ? { featureNames: options.featureNames } : {}),
    },
  );
}

/** The ensemble prediction: the mean of the boosters' probabilities per row. */
export function predictMean(boosters: readonly Booster[], matrix: FeatureMatrix): Float64Array {
  if (boosters.length === 0) throw new DataError('boosters', 'no boosters to average');
  const out = new Float64Array(matrix.numRows);
  for (const booster of boosters) {
    const p = predict(booster, matrix);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (p[i] as number);
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / boosters.length;
  return out;
}
