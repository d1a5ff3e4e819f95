/**
 * Every Store key of DESIGN.md "Artifacts", built in one place:
 *
 * ```
 * datasets/<dataset>/pages/<page>.<ext>, labels.csv, unicode_translation.csv, detections/<set>.json
 * preprocessed/<dataset>/<page>.png
 * crops/<dataset>/<split>/shard-NNNNN.bin + index.json
 * runs/<run>/run.json, cancel.json
 * runs/<run>/<phase>/[<model>/]... + manifest.json
 * cache/<phase>/<input-hash>.json
 * models/<set>/<version>/manifest.json + members
 * filters/<version>/model.txt + features.json
 * results/<run>/<file>
 * ```
 *
 * Every name that comes from outside (dataset, page, detection set, split, run, phase, model,
 * model set, version, input hash) is checked against one segment rule ({@link checkSegment})
 * before a key is built, so no request can reach outside its folder. The Store adapters check the
 * whole key again (platform's `checkKey`); this module is the one that knows the layout.
 */
import { ValidationError } from '@kzr/platform';

/** Longest name allowed in one key segment. */
export const maxSegmentLength = 100;

const segmentPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The segment rule: a name that is one path segment, starting with a letter or digit, of
 * letters, digits, `.`, `_` and `-`, at most {@link maxSegmentLength} characters. So `..`,
 * `a/b`, an empty name and control characters are all rejected. Returns the name; throws a
 * ValidationError naming `field` otherwise.
 */
export function checkSegment(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length > maxSegmentLength || !segmentPattern.test(value)) {
    const shown =
      typeof value === 'string' && value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
    throw new ValidationError(
      field,
      `expected a name of at most ${maxSegmentLength} letters, digits, '.', '_' or '-' (not starting with '.', '_' or '-'), got ${shown}`,
    );
  }
  return value;
}

/**
 * Checks a key relative to an artifact's folder (a manifest's member file, a checkpoint file):
 * `/`-separated segments, each passing {@link checkSegment}.
 */
export function checkRelativeKey(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(field, `expected a relative key, got ${JSON.stringify(value)}`);
  }
  for (const segment of value.split('/')) checkSegment(field, segment);
  return value;
}

// datasets/<dataset>/...

/** `datasets/<dataset>/`: everything ingested for a dataset. */
export function datasetPrefix(dataset: string): string {
  return `datasets/${checkSegment('dataset', dataset)}/`;
}

/** `datasets/<dataset>/pages/`: the pages of a dataset, `<page>.<ext>` each. */
export function datasetPagesPrefix(dataset: string): string {
  return `${datasetPrefix(dataset)}pages/`;
}

/** `datasets/<dataset>/pages/<page><ext>`; `ext` is the image's extension with its dot (`.jpg`). */
export function datasetPageKey(dataset: string, page: string, ext: string): string {
  if (!/^\.[a-z]{2,5}$/.test(ext))
    throw new ValidationError('ext', `expected an image extension, got ${JSON.stringify(ext)}`);
  return `${datasetPagesPrefix(dataset)}${checkSegment('page', page)}${ext}`;
}

/** `datasets/<dataset>/labels.csv`: the ground truth in Kaggle's `train.csv` form. */
export function datasetLabelsKey(dataset: string): string {
  return `${datasetPrefix(dataset)}labels.csv`;
}

/** `datasets/<dataset>/unicode_translation.csv`. */
export function datasetUnicodeTranslationKey(dataset: string): string {
  return `${datasetPrefix(dataset)}unicode_translation.csv`;
}

/** `datasets/<dataset>/detections/`: the dataset's detector result sets. */
export function datasetDetectionsPrefix(dataset: string): string {
  return `${datasetPrefix(dataset)}detections/`;
}

/** `datasets/<dataset>/detections/<set>.json`: one detector result set. */
export function datasetDetectionsKey(dataset: string, set: string): string {
  return `${datasetDetectionsPrefix(dataset)}${checkSegment('set', set)}.json`;
}

// preprocessed/<dataset>/<page>.png

/** `preprocessed/<dataset>/<page>.png`: a page after Ben's filter and denoising. */
export function preprocessedPageKey(dataset: string, page: string): string {
  return `preprocessed/${checkSegment('dataset', dataset)}/${checkSegment('page', page)}.png`;
}

// crops/<dataset>/<split>/...

/** `crops/`: where every dataset's splits are listed from. */
export const cropsRootPrefix = 'crops/';

/** `crops/<dataset>/<split>/`: the shards of one split. */
export function cropsPrefix(dataset: string, split: string): string {
  return `${cropsRootPrefix}${checkSegment('dataset', dataset)}/${checkSegment('split', split)}/`;
}

/** `crops/<dataset>/<split>/<shard>` (`shard-NNNNN.bin`). */
export function cropShardKey(dataset: string, split: string, shard: string): string {
  return `${cropsPrefix(dataset, split)}${checkSegment('shard', shard)}`;
}

/** `crops/<dataset>/<split>/index.json`: written last, it makes the split visible. */
export function cropIndexKey(dataset: string, split: string): string {
  return `${cropsPrefix(dataset, split)}index.json`;
}

// runs/<run>/..., cache/..., results/...

/** `runs/`: where run records are listed from ({@link parseRunRecordKey}). */
export const runsPrefix = 'runs/';

/** `runs/<run>/run.json`: the run's spec and phase records (single writer). */
export function runRecordKey(run: string): string {
  return `${runsPrefix}${checkSegment('run', run)}/run.json`;
}

/**
 * `runs/<run>/cancel.json`: a request to cancel the run, written by whoever asks (`kzr run
 * cancel`); the run's controller, the one writer of `run.json`, reads it and records it there.
 */
export function runCancelRequestKey(run: string): string {
  return `${runsPrefix}${checkSegment('run', run)}/cancel.json`;
}

/** `runs/<run>/`: everything of one run (its record, cancel request and phase outputs). */
export function runPrefix(run: string): string {
  return `${runsPrefix}${checkSegment('run', run)}/`;
}

/** The run of a {@link runRecordKey}, or undefined for any other key. */
export function parseRunRecordKey(key: string): string | undefined {
  return /^runs\/([^/]+)\/run\.json$/.exec(key)?.[1];
}

/**
 * `runs/<run>/<phase>/<model>/`: where one phase writes one model's outputs; `runs/<run>/<phase>/`
 * for a phase that is not per model.
 */
export function runOutputPrefix(run: string, phase: string, model?: string): string {
  const phasePrefix = `${runsPrefix}${checkSegment('run', run)}/${checkSegment('phase', phase)}/`;
  return model === undefined ? phasePrefix : `${phasePrefix}${checkSegment('model', model)}/`;
}

/** `runs/<run>/<phase>/[<model>/]manifest.json`: a phase's manifest, written after its outputs. */
export function phaseManifestKey(run: string, phase: string, model?: string): string {
  return `${runOutputPrefix(run, phase, model)}manifest.json`;
}

/** `cache/`: where {@link phaseCacheKey}s are listed from. */
export const phaseCachePrefix = 'cache/';

/** `cache/<phase>/<input-hash>.json`: pointer to the manifest of a finished phase with that input hash. */
export function phaseCacheKey(phase: string, inputHash: string): string {
  return `${phaseCachePrefix}${checkSegment('phase', phase)}/${checkSegment('inputHash', inputHash)}.json`;
}

/** `results/` or `results/<run>/`: what a person reads of every run, or of one. */
export function resultsPrefix(run?: string): string {
  return run === undefined ? 'results/' : `results/${checkSegment('run', run)}/`;
}

/** `results/<run>/<file>`: what a person reads (report, stage scores, submissions). */
export function resultKey(run: string, file: string): string {
  return `${resultsPrefix(run)}${checkSegment('file', file)}`;
}

/** `results/<run>/stages.json`: F1, precision and recall per stage of the run. */
export function runStagesKey(run: string): string {
  return resultKey(run, 'stages.json');
}

// models/<set>/<version>/...

/** `models/` or `models/<set>/`: where {@link modelSetManifestKey}s are listed from. */
export function modelSetsPrefix(modelSet?: string): string {
  return modelSet === undefined ? 'models/' : `models/${checkSegment('modelSet', modelSet)}/`;
}

/** `models/<set>/<version>/`: the folder of one version; member keys are relative to it. */
export function modelSetVersionPrefix(modelSet: string, version: string): string {
  return `${modelSetsPrefix(modelSet)}${checkSegment('version', version)}/`;
}

/** `models/<set>/<version>/manifest.json`: written last, it makes the version visible. */
export function modelSetManifestKey(modelSet: string, version: string): string {
  return `${modelSetVersionPrefix(modelSet, version)}manifest.json`;
}

/** `models/<set>/<version>/<file>`: a member file named relative to the version. */
export function modelSetFileKey(modelSet: string, version: string, file: string): string {
  return `${modelSetVersionPrefix(modelSet, version)}${checkRelativeKey('file', file)}`;
}

/** `models/<set>/promotion.json`: the promoted version and the ones before it. */
export function modelSetPromotionKey(modelSet: string): string {
  return `${modelSetsPrefix(modelSet)}promotion.json`;
}

/** The set and version of a {@link modelSetManifestKey}, or undefined for any other key. */
export function parseModelSetManifestKey(key: string): { modelSet: string; version: string } | undefined {
  const match = /^models\/([^/]+)\/([^/]+)\/manifest\.json$/.exec(key);
  return match ? { modelSet: match[1]!, version: match[2]! } : undefined;
}

// filters/<version>/...

/** `filters/`: where filter versions are listed from. */
export const filtersPrefix = 'filters/';

/** `filters/<version>/`: the folder of one filter version. */
export function filterVersionPrefix(version: string): string {
  return `${filtersPrefix}${checkSegment('version', version)}/`;
}

/** `filters/<version>/<file>`: a filter's booster (`model.txt`, `model-<k>.txt`). */
export function filterFileKey(version: string, file: string): string {
  return `${filterVersionPrefix(version)}${checkSegment('file', file)}`;
}

/** `filters/<version>/features.json`: the filter's manifest, written last. */
export function filterManifestKey(version: string): string {
  return filterFileKey(version, 'features.json');
}

/** The version of a {@link filterManifestKey}, or undefined for any other key. */
export function parseFilterManifestKey(key: string): string | undefined {
  return /^filters\/([^/]+)\/features\.json$/.exec(key)?.[1];
}

/** Kinds of folder that hold one result each ({@link resultFolderOf}). */
export const ResultFolderKind = {
  /** `runs/<run>/`, made a run by its `run.json` (written first, before any output). */
  Run: 'run',
  /** `results/<run>/`, what a person reads of a run; it belongs to the run. */
  RunResults: 'run-results',
  /** `models/<set>/<version>/`, made visible by its `manifest.json` (written last). */
  ModelVersion: 'model-version',
  /** `filters/<version>/`, made visible by its `features.json` (written last). */
  FilterVersion: 'filter-version',
  /** `crops/<dataset>/<split>/`, made visible by its `index.json` (written last). */
  Crops: 'crops',
} as const;
export type ResultFolderKind = (typeof ResultFolderKind)[keyof typeof ResultFolderKind];

/** The folder of one result that a key lies in. */
export interface ResultFolder {
  readonly kind: ResultFolderKind;
  /** The folder, ending in `/` (`runs/r1/`). */
  readonly prefix: string;
  /** The key without which the folder's objects are leftovers; none for a run's results. */
  readonly recordKey: string | undefined;
}

/**
 * The folder of a result a key lies in (a run, its results, a model-set version, a filter
 * version, a split's crops), or undefined for a key of none (datasets, cache entries, a set's
 * `promotion.json`). Retention groups keys by it.
 */
export function resultFolderOf(key: string): ResultFolder | undefined {
  const parts = key.split('/');
  const at = (kind: ResultFolderKind, depth: number, record: string | undefined): ResultFolder | undefined => {
    if (parts.length <= depth) return undefined;
    const prefix = `${parts.slice(0, depth).join('/')}/`;
    return { kind, prefix, recordKey: record === undefined ? undefined : `${prefix}${record}` };
  };
  switch (parts[0]) {
    case 'runs':
      return at(ResultFolderKind.Run, 2, 'run.json');
    case 'results':
      return at(ResultFolderKind.RunResults, 2, undefined);
    case 'models':
      return at(ResultFolderKind.ModelVersion, 3, 'manifest.json');
    case 'filters':
      return at(ResultFolderKind.FilterVersion, 2, 'features.json');
    case 'crops':
      return at(ResultFolderKind.Crops, 3, 'index.json');
    default:
      return undefined;
  }
}
