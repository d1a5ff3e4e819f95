/**
 * The run spec: everything a run of the training pipeline (DESIGN.md "Runs") depends on, as one
 * strictly validated object. Presets live in `configs/runs/`; a run keeps its spec, defaults
 * filled and model configurations inlined, in `runs/<run>/run.json`.
 *
 * Defaults are the upstream values (spec `upstream-pipeline.md`): pseudo-label thresholds §7.1,
 * filter search and folds §6.2, refinement §4.4. Unknown fields are rejected.
 */
import { RunSpecError } from './errors.js';
import { FieldReader } from './fields.js';

/** Schema version of the run spec this code reads and writes. */
export const runSpecSchemaVersion = 1 as const;

/** tfjs backends a run can pin (ml's `BackendName`), or `auto` for the best available. */
export const RunBackend = {
  Auto: 'auto',
  Gpu: 'gpu',
  Node: 'node',
  Wasm: 'wasm',
  Cpu: 'cpu',
} as const;
export type RunBackend = (typeof RunBackend)[keyof typeof RunBackend];

/** Upstream values of the optional parts of a spec. */
export const RunSpecDefaults = {
  /** Spec §7.1: the first-model filter's mean P(correct) must be at least this. */
  minFilterProbability: 0.5,
  /** Spec §7.1: the soft-vote probability must be at least this (`crop_prob` = 1.0). */
  minVoteProbability: 1,
  /** Spec §6.2: Optuna trials of the filter's hyperparameter search. */
  searchTrials: 200,
  /** Spec §6.2: StratifiedKFold folds of the final booster. */
  folds: 5,
  /** Spec §6.2: `random_state` 7 of the folds. */
  filterSeed: 7,
  /** Spec §4.4: refinement epochs. */
  refineEpochs: 3,
  /** Spec §4.4: `--refine` forces lr = 1e-5. */
  refineLr: 1e-5,
  /** Spec §4.4: one-hot targets of pseudo crops are scaled by 0.9. */
  pseudoTargetWeight: 0.9,
  /** Spec §5.3: TTA 7-crop at inference. */
  tta: true,
  modelSet: 'kuzushiji',
  workers: 'auto',
  backend: RunBackend.Auto,
  parallelism: 1,
  retryLimit: 2,
  gpu: false,
} as const;

/** A synthetic dataset the run generates (data's `generateSyntheticDataset` options). */
export interface SyntheticDatasetSpec {
  /** Books in all, held-out ones included. */
  readonly books: number;
  /** The last books, in fonts no training book uses. */
  readonly holdoutBooks: number;
  readonly pagesPerBook: number;
  /** Character classes. */
  readonly classes: number;
  readonly seed: number;
}

/** Which dataset a run trains on: a stored one by name, or one it generates. */
export interface DatasetSpec {
  /** The dataset's name in the Store (`datasets/<name>/`); `kzr run start --dataset` sets it. */
  readonly name: string | undefined;
  /** Generate this synthetic dataset (under `name`, or a name derived from the parameters). */
  readonly synthetic: SyntheticDatasetSpec | undefined;
}

/** One model of the run: trained first, again on train + pseudo crops, then refined. */
export interface RunModelSpec {
  /** The model's name in phase ids and keys (`first-train/<name>`). */
  readonly name: string;
  /**
   * Where its model configuration came from: a path relative to the spec file. Informational
   * once {@link RunModelSpec.config} is set; the input hash covers the configuration, not the path.
   */
  readonly configPath: string | undefined;
  /**
   * The model configuration (`configs/models/*.json` form, checked by ml's `parseModelConfig`):
   * inline in the spec, or read from {@link RunModelSpec.configPath} by {@link resolveModelConfigs}.
   */
  readonly config: Readonly<Record<string, unknown>> | undefined;
  /** The split (of `split.splits`) it trains and validates on. */
  readonly split: string;
  /** Epochs of the first and second training; undefined: the configuration's `train.epochs`. */
  readonly epochs: { readonly firstTrain: number | undefined; readonly secondTrain: number | undefined };
  /**
   * Most crops of one class in a training epoch (spec §4.1 `--undersampling`; refinement takes
   * none); undefined: the configuration's `train.undersampling`.
   */
  readonly undersampling: number | undefined;
}

/** One book-held-out split (spec §1.3). */
export interface SplitSpec {
  readonly name: string;
  /** Its validation book, held out of training. */
  readonly valBook: string;
}

/** The splits of the run and its test pages. */
export interface RunSplitSpec {
  /** Seed of the split's random moves and of undersampling. */
  readonly seed: number;
  readonly splits: readonly SplitSpec[];
  /**
   * Books whose pages are the test pages: never trained on, pseudo-labelled, and scored per
   * stage (their labels used only for scoring). Synthetic data: the held-out book; Kaggle/CODH
   * data: validation books. None may be a split's val book (those fit the filter).
   */
  readonly testBooks: readonly string[];
}

/** Spec §7.1: a test box becomes a pseudo-label iff both hold. */
export interface PseudoLabelSpec {
  /** The first-model filter's mean P(correct) >= this. @default 0.5 */
  readonly minFilterProbability: number;
  /** The soft-vote probability >= this. @default 1 (upstream's float32 saturation) */
  readonly minVoteProbability: number;
}

/** The false-positive filter fits (first-filter and final-filter), spec §6.2. */
export interface FilterSpec {
  /** TPE search trials; 0 uses the upstream parameters. @default 200 */
  readonly searchTrials: number;
  /** CV folds; the fold boosters form the filter. @default 5 */
  readonly folds: number;
  /** @default 7 */
  readonly seed: number;
}

/** Refinement (spec §4.4): resume the best second-training checkpoint, no augmentation. */
export interface RefineSpec {
  /** @default 3 */
  readonly epochs: number;
  /** Fixed learning rate. @default 1e-5 */
  readonly lr: number;
  /** One-hot target of a pseudo crop is scaled by this. @default 0.9 */
  readonly pseudoTargetWeight: number;
}

/** Inference of first-infer and final-infer. */
export interface InferenceSpec {
  /** TTA 7-crop (spec §5.3); false: the centre view only. @default true */
  readonly tta: boolean;
}

/** Where the run's model set goes. */
export interface PublishSpec {
  /** The model set name (`models/<modelSet>/<version>/`). @default 'kuzushiji' */
  readonly modelSet: string;
}

/** How the run's Jobs run; none of it but `backend` and `workers` enters an input hash. */
export interface ExecutionSpec {
  /** Data-parallel training workers per Job, or `auto` (one per core on wasm/cpu). @default 'auto' */
  readonly workers: number | 'auto';
  /** @default 'auto' */
  readonly backend: RunBackend;
  /** Model phases (trainings, refinements) running at once. @default 1 */
  readonly parallelism: number;
  /** Retries of a failed phase after its first attempt. @default 2 */
  readonly retryLimit: number;
  /** Jobs ask for a GPU. @default false */
  readonly gpu: boolean;
}

/** A parsed run spec: every default filled. */
export interface RunSpec {
  readonly schemaVersion: typeof runSpecSchemaVersion;
  /** The preset it came from, when it did (`smoke`, `default`, `upstream`). */
  readonly preset: string | undefined;
  readonly dataset: DatasetSpec;
  readonly models: readonly RunModelSpec[];
  readonly split: RunSplitSpec;
  readonly pseudoLabel: PseudoLabelSpec;
  readonly filter: FilterSpec;
  readonly refine: RefineSpec;
  readonly inference: InferenceSpec;
  readonly publish: PublishSpec;
  readonly execution: ExecutionSpec;
}

const topFields = [
  'schemaVersion',
  'preset',
  'dataset',
  'models',
  'split',
  'pseudoLabel',
  'filter',
  'refine',
  'inference',
  'publish',
  'execution',
] as const;

function parseDataset(r: FieldReader, value: unknown): DatasetSpec {
  const o = r.object('spec.dataset', value, ['name', 'synthetic']);
  const name = o.name === undefined ? undefined : r.name('spec.dataset.name', o.name);
  let synthetic: SyntheticDatasetSpec | undefined;
  if (o.synthetic !== undefined) {
    const f = 'spec.dataset.synthetic';
    const s = r.object(f, o.synthetic, ['books', 'holdoutBooks', 'pagesPerBook', 'classes', 'seed']);
    const books = r.int(`${f}.books`, s.books, 1, 10_000);
    synthetic = {
      books,
      holdoutBooks: r.int(`${f}.holdoutBooks`, s.holdoutBooks ?? 0, 0, books - 1),
      pagesPerBook: r.int(`${f}.pagesPerBook`, s.pagesPerBook, 1, 100_000),
      classes: r.int(`${f}.classes`, s.classes, 1, 100_000),
      seed: r.int(`${f}.seed`, s.seed, 0),
    };
  }
  if (name === undefined && synthetic === undefined) r.fail('spec.dataset', 'must have a name or a synthetic dataset');
  return { name, synthetic };
}

function parseModel(r: FieldReader, value: unknown, i: number, splits: ReadonlySet<string>): RunModelSpec {
  const f = `spec.models[${i}]`;
  const o = r.object(f, value, ['name', 'config', 'configPath', 'split', 'epochs', 'undersampling']);
  const name = r.name(`${f}.name`, o.name);
  let configPath: string | undefined;
  let config: Readonly<Record<string, unknown>> | undefined;
  if (typeof o.config === 'string') {
    configPath = r.string(`${f}.config`, o.config);
    if (o.configPath !== undefined) r.fail(`${f}.configPath`, 'only beside an inline configuration');
  } else if (typeof o.config === 'object' && o.config !== null && !Array.isArray(o.config)) {
    config = r.anyObject(`${f}.config`, o.config);
    configPath = o.configPath === undefined ? undefined : r.string(`${f}.configPath`, o.configPath);
  } else {
    r.fail(`${f}.config`, 'must be a model configuration path or an inline model configuration');
  }
  const split = r.name(`${f}.split`, o.split);
  if (!splits.has(split)) r.fail(`${f}.split`, `names no split of spec.split.splits (${[...splits].join(', ')})`);
  const e = r.object(`${f}.epochs`, o.epochs ?? {}, ['firstTrain', 'secondTrain']);
  const epoch = (k: 'firstTrain' | 'secondTrain'): number | undefined =>
    e[k] === undefined ? undefined : r.int(`${f}.epochs.${k}`, e[k], 1);
  return {
    name,
    configPath,
    config,
    split,
    epochs: { firstTrain: epoch('firstTrain'), secondTrain: epoch('secondTrain') },
    undersampling: o.undersampling === undefined ? undefined : r.int(`${f}.undersampling`, o.undersampling, 1),
  };
}

function parseSplit(r: FieldReader, value: unknown): RunSplitSpec {
  const o = r.object('spec.split', value, ['seed', 'splits', 'testBooks']);
  const seed = r.int('spec.split.seed', o.seed, 0);
  const names = new Set<string>();
  const splits = r.array('spec.split.splits', o.splits, 1).map((s, i): SplitSpec => {
    const f = `spec.split.splits[${i}]`;
    const so = r.object(f, s, ['name', 'valBook']);
    const name = r.name(`${f}.name`, so.name);
    if (names.has(name)) r.fail(`${f}.name`, `duplicate split ${name}`);
    names.add(name);
    return { name, valBook: r.book(`${f}.valBook`, so.valBook) };
  });
  const valBooks = new Set(splits.map((s) => s.valBook));
  const testBooks = r.array('spec.split.testBooks', o.testBooks, 1).map((b, i) => {
    const book = r.book(`spec.split.testBooks[${i}]`, b);
    if (valBooks.has(book)) {
      r.fail(`spec.split.testBooks[${i}]`, `${book} is a split's val book; test pages must be pages no phase fits on`);
    }
    return book;
  });
  if (new Set(testBooks).size !== testBooks.length) r.fail('spec.split.testBooks', 'lists a book twice');
  return { seed, splits, testBooks };
}

function parseExecution(r: FieldReader, value: unknown): ExecutionSpec {
  const d = RunSpecDefaults;
  const o = r.object('spec.execution', value ?? {}, ['workers', 'backend', 'parallelism', 'retryLimit', 'gpu']);
  const workers =
    o.workers === undefined || o.workers === 'auto' ? d.workers : r.int('spec.execution.workers', o.workers, 1, 256);
  const backend = r.choice('spec.execution.backend', o.backend ?? d.backend, Object.values(RunBackend));
  const gpu = r.boolean('spec.execution.gpu', o.gpu ?? d.gpu);
  if (gpu && (backend === RunBackend.Wasm || backend === RunBackend.Cpu)) {
    r.fail('spec.execution.backend', `${backend} cannot use the GPU that spec.execution.gpu asks for`);
  }
  return {
    workers,
    backend,
    parallelism: r.int('spec.execution.parallelism', o.parallelism ?? d.parallelism, 1, 64),
    retryLimit: r.int('spec.execution.retryLimit', o.retryLimit ?? d.retryLimit, 0, 10),
    gpu,
  };
}

/**
 * Parses and checks a run spec: a parsed JSON value, or JSON text. Fills the defaults
 * ({@link RunSpecDefaults}); throws a {@link RunSpecError} naming the first bad field
 * (`spec.models[1].epochs.firstTrain: must be a positive integer, got 0`). Parsing a parsed
 * spec again gives the same spec.
 */
export function parseRunSpec(value: unknown): RunSpec {
  const r = new FieldReader((field, problem) => new RunSpecError(field, problem));
  let json = value;
  if (typeof value === 'string') {
    try {
      json = JSON.parse(value);
    } catch (err) {
      throw new RunSpecError('spec', `not JSON (${(err as Error).message})`, { cause: err });
    }
  }
  const o = r.object('spec', json, topFields);
  if (o.schemaVersion !== runSpecSchemaVersion) {
    r.fail(
      'spec.schemaVersion',
      o.schemaVersion === undefined
        ? `missing; this kzr reads schema version ${runSpecSchemaVersion}`
        : `unknown schema version ${JSON.stringify(o.schemaVersion)}; this kzr reads ${runSpecSchemaVersion}`,
    );
  }
  const d = RunSpecDefaults;
  const preset = o.preset === undefined ? undefined : r.name('spec.preset', o.preset);
  const dataset = parseDataset(r, o.dataset);
  const split = parseSplit(r, o.split);
  const splitNames = new Set(split.splits.map((s) => s.name));
  const models = r.array('spec.models', o.models, 1, 32).map((m, i) => parseModel(r, m, i, splitNames));
  models.forEach((m, i) => {
    if (models.findIndex((other) => other.name === m.name) !== i)
      r.fail(`spec.models[${i}].name`, `duplicate model ${m.name}`);
  });

  const p = r.object('spec.pseudoLabel', o.pseudoLabel ?? {}, ['minFilterProbability', 'minVoteProbability']);
  const fo = r.object('spec.filter', o.filter ?? {}, ['searchTrials', 'folds', 'seed']);
  const ro = r.object('spec.refine', o.refine ?? {}, ['epochs', 'lr', 'pseudoTargetWeight']);
  const io = r.object('spec.inference', o.inference ?? {}, ['tta']);
  const po = r.object('spec.publish', o.publish ?? {}, ['modelSet']);
  return {
    schemaVersion: runSpecSchemaVersion,
    preset,
    dataset,
    models,
    split,
    pseudoLabel: {
      minFilterProbability: r.number(
        'spec.pseudoLabel.minFilterProbability',
        p.minFilterProbability ?? d.minFilterProbability,
        0,
        1,
      ),
      minVoteProbability: r.number(
        'spec.pseudoLabel.minVoteProbability',
        p.minVoteProbability ?? d.minVoteProbability,
        0,
        1,
        true,
      ),
    },
    filter: {
      searchTrials: r.int('spec.filter.searchTrials', fo.searchTrials ?? d.searchTrials, 0, 10_000),
      folds: r.int('spec.filter.folds', fo.folds ?? d.folds, 2, 20),
      seed: r.int('spec.filter.seed', fo.seed ?? d.filterSeed, 0),
    },
    refine: {
      epochs: r.int('spec.refine.epochs', ro.epochs ?? d.refineEpochs, 1, 1000),
      lr: r.number('spec.refine.lr', ro.lr ?? d.refineLr, 0, 10, true),
      pseudoTargetWeight: r.number(
        'spec.refine.pseudoTargetWeight',
        ro.pseudoTargetWeight ?? d.pseudoTargetWeight,
        0,
        1,
        true,
      ),
    },
    inference: { tta: r.boolean('spec.inference.tta', io.tta ?? d.tta) },
    publish: { modelSet: r.name('spec.publish.modelSet', po.modelSet ?? d.modelSet) },
    execution: parseExecution(r, o.execution),
  };
}

/**
 * The spec in its JSON form (what `run.json` stores): a model's `config` is its inline
 * configuration when it has one (the path beside it as `configPath`), else the path.
 * {@link parseRunSpec} reads it back to an equal spec.
 */
export function runSpecToJson(spec: RunSpec): Record<string, unknown> {
  return {
    ...spec,
    models: spec.models.map((m) => ({
      name: m.name,
      ...(m.config === undefined ? { config: m.configPath } : { config: m.config, configPath: m.configPath }),
      split: m.split,
      epochs: m.epochs,
      ...(m.undersampling === undefined ? {} : { undersampling: m.undersampling }),
    })),
  };
}

/**
 * Inlines every model configuration given by path: `read(path)` returns the parsed JSON of the
 * file (the caller resolves the path against the spec file's folder and does the I/O). The
 * input hashes need inline configurations: a configuration edited under the same path must
 * change its model's hash.
 */
export function resolveModelConfigs(spec: RunSpec, read: (path: string) => unknown): RunSpec {
  const r = new FieldReader((field, problem) => new RunSpecError(field, problem));
  return {
    ...spec,
    models: spec.models.map((m, i) =>
      m.config !== undefined || m.configPath === undefined
        ? m
        : { ...m, config: r.anyObject(`spec.models[${i}].config (${m.configPath})`, read(m.configPath)) },
    ),
  };
}
