/**
 * Hyperparameter search in the style of the upstream Optuna study (§6.2): a TPE sampler
 * (independent Parzen estimators per parameter, Optuna's defaults) over the upstream space,
 * minimising 1 − accuracy of the rounded out-of-fold predictions, with a median pruner on the
 * per-iteration validation logloss. Seeded: the same data, options and seed give the same trials.
 */
import { crossValidate, outOfFoldPredictions } from './cv.js';
import { DataError } from './errors.js';
import { accuracy } from './metrics.js';
import { resolveParams, type GbdtParams } from './params.js';
import { LgbRandom } from './random.js';
import type { LabeledData } from './trainer.js';

/** One searched parameter: LightGBM name, range, scale. */
export interface SearchDimension {
  readonly name: string;
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly int: boolean;
}

/** The upstream search space (`optuna_search_for_false_positive_detector.py`). */
export const UPSTREAM_SEARCH_SPACE: readonly SearchDimension[] = Object.freeze([
  { name: 'lambda_l1', low: 1e-8, high: 10, log: true, int: false },
  { name: 'lambda_l2', low: 1e-8, high: 10, log: true, int: false },
  { name: 'num_leaves', low: 2, high: 256, log: false, int: true },
  { name: 'feature_fraction', low: 0.4, high: 1, log: false, int: false },
  { name: 'bagging_fraction', low: 0.4, high: 1, log: false, int: false },
  { name: 'bagging_freq', low: 1, high: 7, log: false, int: true },
  { name: 'min_child_samples', low: 5, high: 100, log: false, int: true },
]);

/** How a trial ended. */
export const TrialState = { Complete: 'complete', Pruned: 'pruned' } as const;
export type TrialState = (typeof TrialState)[keyof typeof TrialState];

/** One evaluated parameter set. */
export interface Trial {
  readonly number: number;
  /** The sampled values under LightGBM names. */
  readonly params: Readonly<Record<string, number>>;
  readonly state: TrialState;
  /** 1 − accuracy for a complete trial; the last intermediate loss for a pruned one. */
  readonly value: number;
  /** Boosting iterations run (fewer than `numBoostRound` when pruned). */
  readonly steps: number;
  /** Mean validation logloss per iteration. */
  readonly intermediate: readonly number[];
}

/** Options of {@link searchParams}. */
export interface SearchOptions {
  /** Trials to run. @default 50 */
  readonly trials?: number;
  /** Folds of the CV that scores each trial. @default 3 */
  readonly folds?: number;
  /** Seed of the sampler and of the folds. @default 0 */
  readonly seed?: number;
  /** Boosting rounds per trial. @default 200 */
  readonly numBoostRound?: number;
  /** Fixed parameters under LightGBM names (learning_rate, max_depth, max_bin …). @default {} */
  readonly baseParams?: Readonly<Record<string, string | number>>;
  /** The space. @default {@link UPSTREAM_SEARCH_SPACE} */
  readonly space?: readonly SearchDimension[];
  /** Random trials before TPE starts. @default 10 (Optuna's) */
  readonly startupTrials?: number;
  /** Complete trials before the pruner may prune. @default 5 (Optuna's MedianPruner) */
  readonly prunerStartupTrials?: number;
  /** Iterations before the pruner may prune. @default 20 (upstream `n_warmup_steps`) */
  readonly warmupSteps?: number;
  readonly featureNames?: readonly string[];
  /** Progress: called after each trial. */
  readonly onTrial?: (trial: Trial, best: Trial | undefined) => void;
  /** Stops the search between iterations when aborted. */
  readonly signal?: AbortSignal;
}

/** The result of {@link searchParams}. */
export interface SearchResult {
  readonly best: Trial;
  /** The best trial's values, ready for {@link resolveParams} together with the base parameters. */
  readonly bestParams: Readonly<Record<string, number>>;
  readonly trials: readonly Trial[];
}

// ---- Parzen estimators (Optuna's univariate TPE with the "magic clip" bandwidths) ----

interface Parzen {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly low: number;
  readonly high: number;
}

function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for acquisition ratios.
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}

const normalCdf = (x: number, mu: number, sigma: number): number => 0.5 * (1 + erf((x - mu) / (sigma * Math.SQRT2)));

function buildParzen(observations: number[], low: number, high: number): Parzen {
  const prior = (low + high) / 2;
  const mus = [...observations, prior].sort((a, b) => a - b);
  const range = high - low;
  const minSigma = range / Math.min(100, 1 + mus.length);
  const sigmas = mus.map((mu, i) => {
    const left = i === 0 ? mu - low : mu - (mus[i - 1] as number);
    const right = i === mus.length - 1 ? high - mu : (mus[i + 1] as number) - mu;
    return Math.min(range, Math.max(minSigma, left, right));
  });
  // The prior component is wide: sigma = the whole range.
  const priorIndex = mus.indexOf(prior);
  sigmas[priorIndex] = range;
  return { mus, sigmas, low, high };
}

function parzenLogDensity(p: Parzen, x: number): number {
  let density = 0;
  for (let i = 0; i < p.mus.length; i++) {
    const mu = p.mus[i] as number;
    const sigma = p.sigmas[i] as number;
    const mass = normalCdf(p.high, mu, sigma) - normalCdf(p.low, mu, sigma);
    const z = (x - mu) / sigma;
    density += Math.exp(-0.5 * z * z) / (sigma * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.log(density / p.mus.length + 1e-300);
}

function gaussian(random: LgbRandom): number {
  const u = Math.max(random.nextDouble(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
}

function sampleParzen(p: Parzen, random: LgbRandom): number {
  const i = Math.min(p.mus.length - 1, Math.floor(random.nextDouble() * p.mus.length));
  for (let attempt = 0; attempt < 100; attempt++) {
    const x = (p.mus[i] as number) + (p.sigmas[i] as number) * gaussian(random);
    if (x >= p.low && x <= p.high) return x;
  }
  return Math.min(p.high, Math.max(p.low, p.mus[i] as number));
}

/** Internal (continuous, possibly log) coordinates of a dimension. */
function bounds(d: SearchDimension): [number, number] {
  const low = d.int ? d.low - 0.5 : d.low;
  const high = d.int ? d.high + 0.5 : d.high;
  return d.log ? [Math.log(d.low), Math.log(d.high)] : [low, high];
}

function toExternal(d: SearchDimension, x: number): number {
  const v = d.log ? Math.exp(x) : x;
  const clipped = Math.min(d.high, Math.max(d.low, d.int ? Math.round(v) : v));
  return clipped;
}

function toInternal(d: SearchDimension, v: number): number {
  return d.log ? Math.log(v) : v;
}

/** Trials ordered best first: complete by value, then pruned by steps reached (more is better) and last loss. */
function rankTrials(trials: readonly Trial[]): Trial[] {
  return [...trials].sort((a, b) => {
    if (a.state !== b.state) return a.state === TrialState.Complete ? -1 : 1;
    if (a.state === TrialState.Complete) return a.value - b.value || a.number - b.number;
    return b.steps - a.steps || a.value - b.value || a.number - b.number;
  });
}

function sampleTrialParams(
  space: readonly SearchDimension[],
  history: readonly Trial[],
  startupTrials: number,
  random: LgbRandom,
): Record<string, number> {
  const out: Record<string, number> = {};
  const ranked = rankTrials(history);
  const nBelow = Math.max(1, Math.min(Math.ceil(0.1 * ranked.length), 25));
  for (const d of space) {
    const [low, high] = bounds(d);
    let x: number;
    if (history.length < startupTrials) {
      x = low + (high - low) * random.nextDouble();
    } else {
      const values = ranked.map((t) => toInternal(d, t.params[d.name] as number));
      const below = buildParzen(values.slice(0, nBelow), low, high);
      const above = buildParzen(values.slice(nBelow), low, high);
      x = sampleParzen(below, random);
      let bestScore = -Infinity;
      for (let c = 0; c < 24; c++) {
        const candidate = c === 0 ? x : sampleParzen(below, random);
        const score = parzenLogDensity(below, candidate) - parzenLogDensity(above, candidate);
        if (score > bestScore) {
          bestScore = score;
          x = candidate;
        }
      }
    }
    out[d.name] = toExternal(d, x);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Searches the space with TPE and median pruning. Each trial trains a k-fold CV for
 * `numBoostRound` iterations (lockstep over folds, see {@link crossValidate}); its value is
 * 1 − accuracy of `rint` of the out-of-fold predictions at the best CV iteration.
 */
export function searchParams(data: LabeledData, options: SearchOptions = {}): SearchResult {
  const steps = searchSteps(data, options);
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/**
 * {@link searchParams} one trial at a time: yields each finished trial (with the best so far),
 * returns the result. Lets a server stream progress and yield the event loop between trials.
 */
export function* searchSteps(
  data: LabeledData,
  options: SearchOptions = {},
): Generator<{ trial: Trial; best: Trial | undefined }, SearchResult, void> {
  const trialsWanted = options.trials ?? 50;
  const folds = options.folds ?? 3;
  const seed = options.seed ?? 0;
  const space = options.space ?? UPSTREAM_SEARCH_SPACE;
  const startupTrials = options.startupTrials ?? 10;
  const prunerStartup = options.prunerStartupTrials ?? 5;
  const warmup = options.warmupSteps ?? 20;
  if (!Number.isInteger(trialsWanted) || trialsWanted < 1) {
    throw new DataError('trials', `expected a positive integer, got ${trialsWanted}`);
  }
  const base = options.baseParams ?? {};
  // Validate the fixed parameters once, before any trial runs.
  resolveParams({ ...base, num_iterations: options.numBoostRound ?? 200 });
  const random = new LgbRandom(seed);
  const trials: Trial[] = [];
  let best: Trial | undefined;
  for (let number = 0; number < trialsWanted; number++) {
    if (options.signal?.aborted) break;
    const sampled = sampleTrialParams(space, trials, startupTrials, random);
    const params: GbdtParams = resolveParams({ ...base, num_iterations: options.numBoostRound ?? 200, ...sampled });
    const complete = trials.filter((t) => t.state === TrialState.Complete);
    const intermediate: number[] = [];
    let pruned = false;
    const cv = crossValidate(data, params, {
      folds,
      seed,
      ...(options.featureNames ? { featureNames: options.featureNames } : {}),
      onIteration: (iteration, loss) => {
        intermediate.push(loss);
        if (options.signal?.aborted) return false;
        if (complete.length < prunerStartup || iteration - 1 < warmup) return true;
        const peers = complete.map((t) => t.intermediate[iteration - 1]).filter((v): v is number => v !== undefined);
        if (peers.length > 0 && loss > median(peers)) {
          pruned = true;
          return false;
        }
        return true;
      },
    });
    let trial: Trial;
    if (pruned) {
      trial = {
        number,
        params: sampled,
        state: TrialState.Pruned,
        value: intermediate.at(-1) ?? Infinity,
        steps: intermediate.length,
        intermediate,
      };
    } else {
      const oof = outOfFoldPredictions(cv.boosters, cv.foldOf, data.features);
      trial = {
        number,
        params: sampled,
        state: TrialState.Complete,
        value: 1 - accuracy(data.labels, oof),
        steps: intermediate.length,
        intermediate,
      };
      if (best === undefined || trial.value < best.value) best = trial;
    }
    trials.push(trial);
    options.onTrial?.(trial, best);
    yield { trial, best };
  }
  if (best === undefined) throw new DataError('trials', 'every trial was pruned or the search was aborted');
  return { best, bestParams: best.params, trials };
}
