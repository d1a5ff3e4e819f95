/**
 * Training parameters under LightGBM's names, with LightGBM's aliases and defaults.
 * {@link resolveParams} turns `key=value` pairs (strings or numbers, any alias) into a checked
 * {@link GbdtParams}.
 */
import { ParamError } from './errors.js';
import { LgbRandom } from './random.js';

/** The resolved training parameters; names are LightGBM's, in camelCase. */
export interface GbdtParams {
  /** Boosting rounds (`num_iterations`). @default 100 */
  readonly numIterations: number;
  /** Shrinkage of each tree (`learning_rate`). @default 0.1 */
  readonly learningRate: number;
  /** Most leaves per tree (`num_leaves`). @default 31 */
  readonly numLeaves: number;
  /** Deepest leaf; ≤ 0 means no limit (`max_depth`). @default -1 */
  readonly maxDepth: number;
  /** Fewest training rows in a leaf (`min_data_in_leaf`). @default 20 */
  readonly minDataInLeaf: number;
  /** Smallest hessian sum in a leaf (`min_sum_hessian_in_leaf`). @default 1e-3 */
  readonly minSumHessianInLeaf: number;
  /** L1 regularisation of leaf outputs (`lambda_l1`). @default 0 */
  readonly lambdaL1: number;
  /** L2 regularisation of leaf outputs (`lambda_l2`). @default 0 */
  readonly lambdaL2: number;
  /** Smallest gain that makes a split (`min_gain_to_split`). @default 0 */
  readonly minGainToSplit: number;
  /** Fraction of features each tree may split on (`feature_fraction`). @default 1 */
  readonly featureFraction: number;
  /** Fraction of rows each bagging round keeps (`bagging_fraction`). @default 1 */
  readonly baggingFraction: number;
  /** Re-bag every k iterations; 0 disables bagging (`bagging_freq`). @default 0 */
  readonly baggingFreq: number;
  /** Most histogram bins per feature, the missing-value bin included (`max_bin`). @default 255 */
  readonly maxBin: number;
  /** Fewest rows in a histogram bin (`min_data_in_bin`). @default 3 */
  readonly minDataInBin: number;
  /** Rows sampled to build the bins (`bin_construct_sample_cnt`). @default 200000 */
  readonly binConstructSampleCnt: number;
  /** Stop when the validation loss has not improved for this many rounds; 0 = never (`early_stopping_round`). @default 0 */
  readonly earlyStoppingRound: number;
  /** Start from the log-odds of the mean label (`boost_from_average`). @default true */
  readonly boostFromAverage: boolean;
  /** Scale of the sigmoid (`sigmoid`). @default 1 */
  readonly sigmoid: number;
  /** Master seed (`seed`); when set it derives the bagging and feature seeds. @default undefined */
  readonly seed: number | undefined;
  /** Seed of bagging (`bagging_seed`). @default 3 */
  readonly baggingSeed: number;
  /** Seed of feature sampling (`feature_fraction_seed`). @default 2 */
  readonly featureFractionSeed: number;
  /** Seed of the bin-construction sample (`data_random_seed`). @default 1 */
  readonly dataRandomSeed: number;
  /**
   * Threads that build histograms (`num_threads`); 0 = the machine's parallelism, at most 4.
   * Small tables always train on one thread. The model does not depend on it.
   * @default 0
   */
  readonly numThreads: number;
}

/** LightGBM's defaults for every parameter kzr reads. */
export const DEFAULT_PARAMS: GbdtParams = Object.freeze({
  numIterations: 100,
  learningRate: 0.1,
  numLeaves: 31,
  maxDepth: -1,
  minDataInLeaf: 20,
  minSumHessianInLeaf: 1e-3,
  lambdaL1: 0,
  lambdaL2: 0,
  minGainToSplit: 0,
  featureFraction: 1,
  baggingFraction: 1,
  baggingFreq: 0,
  maxBin: 255,
  minDataInBin: 3,
  binConstructSampleCnt: 200000,
  earlyStoppingRound: 0,
  boostFromAverage: true,
  sigmoid: 1,
  seed: undefined,
  baggingSeed: 3,
  featureFractionSeed: 2,
  dataRandomSeed: 1,
  numThreads: 0,
});

type Kind = 'int' | 'float' | 'bool';
interface Spec {
  readonly key: keyof GbdtParams;
  readonly kind: Kind;
  readonly min: number;
  readonly max: number;
  /** Whether `min` itself is allowed. */
  readonly minOpen?: boolean;
  readonly aliases: readonly string[];
}

const INT_MAX = 2 ** 31 - 1;

/** LightGBM name → spec; aliases as in LightGBM's `config.h`. */
const SPECS: Readonly<Record<string, Spec>> = {
  num_iterations: {
    key: 'numIterations',
    kind: 'int',
    min: 0,
    max: INT_MAX,
    aliases: [
      'num_iteration',
      'n_iter',
      'num_tree',
      'num_trees',
      'num_round',
      'num_rounds',
      'nrounds',
      'num_boost_round',
      'n_estimators',
      'max_iter',
    ],
  },
  learning_rate: {
    key: 'learningRate',
    kind: 'float',
    min: 0,
    max: Infinity,
    minOpen: true,
    aliases: ['shrinkage_rate', 'eta'],
  },
  num_leaves: {
    key: 'numLeaves',
    kind: 'int',
    min: 2,
    max: 131072,
    aliases: ['num_leaf', 'max_leaves', 'max_leaf', 'max_leaf_nodes'],
  },
  max_depth: { key: 'maxDepth', kind: 'int', min: -INT_MAX, max: INT_MAX, aliases: [] },
  min_data_in_leaf: {
    key: 'minDataInLeaf',
    kind: 'int',
    min: 0,
    max: INT_MAX,
    aliases: ['min_data_per_leaf', 'min_data', 'min_child_samples', 'min_samples_leaf'],
  },
  min_sum_hessian_in_leaf: {
    key: 'minSumHessianInLeaf',
    kind: 'float',
    min: 0,
    max: Infinity,
    aliases: ['min_sum_hessian_per_leaf', 'min_sum_hessian', 'min_hessian', 'min_child_weight'],
  },
  lambda_l1: { key: 'lambdaL1', kind: 'float', min: 0, max: Infinity, aliases: ['reg_alpha', 'l1_regularization'] },
  lambda_l2: {
    key: 'lambdaL2',
    kind: 'float',
    min: 0,
    max: Infinity,
    aliases: ['reg_lambda', 'lambda', 'l2_regularization'],
  },
  min_gain_to_split: { key: 'minGainToSplit', kind: 'float', min: 0, max: Infinity, aliases: ['min_split_gain'] },
  feature_fraction: {
    key: 'featureFraction',
    kind: 'float',
    min: 0,
    max: 1,
    minOpen: true,
    aliases: ['sub_feature', 'colsample_bytree'],
  },
  bagging_fraction: {
    key: 'baggingFraction',
    kind: 'float',
    min: 0,
    max: 1,
    minOpen: true,
    aliases: ['sub_row', 'subsample', 'bagging'],
  },
  bagging_freq: { key: 'baggingFreq', kind: 'int', min: 0, max: INT_MAX, aliases: ['subsample_freq'] },
  max_bin: { key: 'maxBin', kind: 'int', min: 2, max: 65535, aliases: ['max_bins'] },
  min_data_in_bin: { key: 'minDataInBin', kind: 'int', min: 1, max: INT_MAX, aliases: [] },
  bin_construct_sample_cnt: {
    key: 'binConstructSampleCnt',
    kind: 'int',
    min: 1,
    max: INT_MAX,
    aliases: ['subsample_for_bin'],
  },
  early_stopping_round: {
    key: 'earlyStoppingRound',
    kind: 'int',
    min: 0,
    max: INT_MAX,
    aliases: ['early_stopping_rounds', 'early_stopping', 'n_iter_no_change'],
  },
  boost_from_average: { key: 'boostFromAverage', kind: 'bool', min: 0, max: 1, aliases: [] },
  sigmoid: { key: 'sigmoid', kind: 'float', min: 0, max: Infinity, minOpen: true, aliases: [] },
  seed: { key: 'seed', kind: 'int', min: -INT_MAX, max: INT_MAX, aliases: ['random_seed', 'random_state'] },
  bagging_seed: { key: 'baggingSeed', kind: 'int', min: -INT_MAX, max: INT_MAX, aliases: ['bagging_fraction_seed'] },
  feature_fraction_seed: { key: 'featureFractionSeed', kind: 'int', min: -INT_MAX, max: INT_MAX, aliases: [] },
  data_random_seed: { key: 'dataRandomSeed', kind: 'int', min: -INT_MAX, max: INT_MAX, aliases: ['data_seed'] },
  num_threads: {
    key: 'numThreads',
    kind: 'int',
    min: 0,
    max: 1024,
    aliases: ['num_thread', 'nthread', 'nthreads', 'n_jobs'],
  },
};

/** Accepted for compatibility with LightGBM parameter files, checked, and otherwise ignored. */
const ACCEPTED: Readonly<Record<string, readonly string[]>> = {
  objective: ['binary'],
  objective_type: ['binary'],
  app: ['binary'],
  application: ['binary'],
  loss: ['binary'],
  boosting: ['gbdt'],
  boosting_type: ['gbdt'],
  boost: ['gbdt'],
  metric: ['binary_logloss', 'binary', 'auc', 'binary_error', ''],
  metrics: ['binary_logloss', 'binary', 'auc', 'binary_error', ''],
  verbosity: [],
  verbose: [],
  deterministic: [],
  force_col_wise: [],
  force_row_wise: [],
  feature_pre_filter: [],
};

const CANONICAL = new Map<string, string>();
for (const [name, spec] of Object.entries(SPECS)) {
  CANONICAL.set(name, name);
  for (const alias of spec.aliases) CANONICAL.set(alias, name);
}

/** The canonical LightGBM name of a parameter or alias, or undefined when kzr does not know it. */
export function canonicalParamName(name: string): string | undefined {
  return CANONICAL.get(name.trim());
}

function parseValue(name: string, spec: Spec, raw: string | number | boolean): number | boolean {
  if (spec.kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).trim().toLowerCase();
    if (text === 'true' || text === '1' || text === '+') return true;
    if (text === 'false' || text === '0' || text === '-') return false;
    throw new ParamError(name, `expected true or false, got ${JSON.stringify(raw)}`);
  }
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (typeof raw !== 'number' && String(raw).trim() === '') throw new ParamError(name, 'empty value');
  if (!Number.isFinite(value) || (spec.kind === 'int' && !Number.isInteger(value))) {
    throw new ParamError(
      name,
      `expected ${spec.kind === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`,
    );
  }
  const lowOk = spec.minOpen === true ? value > spec.min : value >= spec.min;
  if (!lowOk || value > spec.max) {
    throw new ParamError(
      name,
      `expected a value in ${spec.minOpen === true ? '(' : '['}${spec.min}, ${spec.max}], got ${value}`,
    );
  }
  return value;
}

/**
 * LightGBM's sub-seeds of a master seed: three 15-bit draws of `Random(seed)`, in LightGBM's
 * order (not core's `deriveSeed`: a seed must mean what it means to LightGBM).
 */
function lightgbmSubSeeds(seed: number): { baggingSeed: number; featureFractionSeed: number; dataRandomSeed: number } {
  const random = new LgbRandom(seed);
  const draw = (): number => random.nextShort(0, 0x8000);
  return { dataRandomSeed: draw(), baggingSeed: draw(), featureFractionSeed: draw() };
}

/**
 * Resolves LightGBM-style parameters: canonical names or aliases, values as strings or numbers.
 * An unknown name or a bad value throws {@link ParamError} naming it; a parameter given twice
 * under different aliases is an error too. `seed` derives the sub-seeds unless they are given.
 */
export function resolveParams(input: Readonly<Record<string, string | number | boolean>> = {}): GbdtParams {
  const out: Record<string, unknown> = { ...DEFAULT_PARAMS };
  const seen = new Map<string, string>();
  for (const [rawName, raw] of Object.entries(input)) {
    const name = rawName.trim();
    const accepted = ACCEPTED[name];
    if (accepted !== undefined) {
      if (accepted.length > 0 && !accepted.includes(String(raw).trim())) {
        throw new ParamError(
          name,
          `kzr supports only ${accepted.filter(Boolean).join(', ')}, got ${JSON.stringify(raw)}`,
        );
      }
      continue;
    }
    const canonical = CANONICAL.get(name);
    if (canonical === undefined) throw new ParamError(name, 'unknown parameter');
    const previous = seen.get(canonical);
    if (previous !== undefined) throw new ParamError(name, `given twice (also as ${previous})`);
    seen.set(canonical, name);
    const spec = SPECS[canonical] as Spec;
    out[spec.key] = parseValue(name, spec, raw);
  }
  if (typeof out.seed === 'number') {
    const derived = lightgbmSubSeeds(out.seed);
    if (!seen.has('bagging_seed')) out.baggingSeed = derived.baggingSeed;
    if (!seen.has('feature_fraction_seed')) out.featureFractionSeed = derived.featureFractionSeed;
    if (!seen.has('data_random_seed')) out.dataRandomSeed = derived.dataRandomSeed;
  }
  return Object.freeze(out) as unknown as GbdtParams;
}

/** The parameters as LightGBM `[name: value]` lines for the `parameters:` section of model.txt. */
export function paramsToLightgbm(params: GbdtParams): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['boosting', 'gbdt'],
    ['objective', 'binary'],
    ['metric', 'binary_logloss'],
  ];
  for (const [name, spec] of Object.entries(SPECS)) {
    const value = params[spec.key];
    if (value === undefined) continue;
    out.push([name, typeof value === 'boolean' ? (value ? '1' : '0') : String(value)]);
  }
  return out;
}

/** Parses `key=value` strings (the CLI's `--param`) into a record for {@link resolveParams}. */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new ParamError(assignment, 'expected key=value');
    const key = assignment.slice(0, eq).trim();
    if (key in out) throw new ParamError(key, 'given twice');
    out[key] = assignment.slice(eq + 1).trim();
  }
  return out;
}
