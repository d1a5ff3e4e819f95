/**
 * Filter versions: the fold boosters of a fitted false-positive filter, its feature names and
 * its tuned keep threshold. In the Store a version lives under `filters/<version>/` as
 * `model.txt` (fold 0; further folds `model-<k>.txt`) and `features.json` (the manifest, schema
 * version {@link filterSchemaVersion}, written last); the filter predicts the mean of its
 * boosters' probabilities.
 */
import { KzrError } from '@kzr/core';
import { FP_FEATURE_NAMES } from '@kzr/core/postprocess';
import { featureImportance, formatModel, parseModel, type Booster } from '@kzr/gbdt';
import { NotFoundError, ValidationError, type Store } from '@kzr/platform';

import { checkSegment, filterFileKey, filterManifestKey, filtersPrefix, parseFilterManifestKey } from './keys.js';
import { checkSchemaVersion } from './schema.js';

/** Schema version of the `features.json` this code reads and writes. */
export const filterSchemaVersion = 1 as const;

/** A loaded filter version. */
export interface Filter {
  readonly version: string;
  readonly boosters: readonly Booster[];
  readonly featureNames: readonly string[];
  /** Keep a box iff mean P(correct) >= threshold. */
  readonly threshold: number;
}

/** The `features.json` of a stored filter. */
export interface FilterManifest {
  readonly schemaVersion: typeof filterSchemaVersion;
  readonly version: string;
  /** Feature names in column order (the 117 of spec §6.2). */
  readonly featureNames: readonly string[];
  readonly threshold: number;
  /** Model files of the fold boosters, relative to the version folder; the first is `model.txt`. */
  readonly models: readonly string[];
  /** Split counts per feature, summed over the boosters, most used first. */
  readonly importance: ReadonlyArray<{ feature: string; splits: number }>;
  /** How it was fitted (folds, best iteration, parameters, scores). */
  readonly fit: Readonly<Record<string, unknown>>;
}

/** Where filters are kept. */
export interface FilterRepository {
  /** Stores a new version; returns the keys written. */
  save(filter: Filter, fit: Readonly<Record<string, unknown>>): Promise<{ modelKey: string; featuresKey: string }>;
  /** Loads a version; NotFoundError when there is none such. */
  load(version: string): Promise<Filter>;
  /** The newest stored version, if any. */
  latest(): Promise<string | undefined>;
}

/** A new, sortable filter version name (UTC time to the millisecond plus a counter). */
export function newFilterVersion(now: Date = new Date(), counter = 0): string {
  return `f${now.toISOString().replace(/[-:.]/g, '')}-${String(counter).padStart(3, '0')}`;
}

/** Parses and checks a `features.json`; throws a ValidationError naming the bad field. */
export function parseFilterManifest(value: unknown): FilterManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('features', 'expected an object');
  }
  const o = value as Record<string, unknown>;
  const strings = (field: string, v: unknown): string[] => {
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) {
      throw new ValidationError(field, 'expected a non-empty list of strings');
    }
    return v as string[];
  };
  checkSchemaVersion('features.schemaVersion', o.schemaVersion, filterSchemaVersion);
  const version = checkSegment('features.version', o.version);
  if (typeof o.threshold !== 'number' || !(o.threshold >= 0 && o.threshold <= 1)) {
    throw new ValidationError('features.threshold', `expected a number in [0, 1], got ${JSON.stringify(o.threshold)}`);
  }
  const models = strings('features.models', o.models);
  models.forEach((m, i) => checkSegment(`features.models[${i}]`, m));
  if (!Array.isArray(o.importance)) throw new ValidationError('features.importance', 'expected a list');
  if (typeof o.fit !== 'object' || o.fit === null) throw new ValidationError('features.fit', 'expected an object');
  return {
    schemaVersion: filterSchemaVersion,
    version,
    featureNames: strings('features.featureNames', o.featureNames),
    threshold: o.threshold,
    models,
    importance: o.importance as FilterManifest['importance'],
    fit: o.fit as FilterManifest['fit'],
  };
}

function checkFilter(filter: Filter): Filter {
  if (filter.featureNames.length !== FP_FEATURE_NAMES.length) {
    throw new KzrError(
      'internal',
      `filter ${filter.version} has ${filter.featureNames.length} features, kzr computes ${FP_FEATURE_NAMES.length}`,
    );
  }
  for (const booster of filter.boosters) {
    if (booster.maxFeatureIdx + 1 !== filter.featureNames.length) {
      throw new KzrError('internal', `filter ${filter.version}: a model reads ${booster.maxFeatureIdx + 1} features`);
    }
  }
  return filter;
}

/** Filters in a {@link Store} under `filters/<version>/`. */
export class StoreFilterRepository implements FilterRepository {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async save(
    filter: Filter,
    fit: Readonly<Record<string, unknown>>,
  ): Promise<{ modelKey: string; featuresKey: string }> {
    checkFilter(filter);
    const version = checkSegment('version', filter.version);
    const models = filter.boosters.map((_, k) => (k === 0 ? 'model.txt' : `model-${k}.txt`));
    for (const [k, booster] of filter.boosters.entries()) {
      await this.#store.put(filterFileKey(version, models[k]!), Buffer.from(formatModel(booster)), {
        contentType: 'text/plain',
      });
    }
    const counts = new Map<string, number>();
    for (const booster of filter.boosters) {
      for (const { feature, splits } of featureImportance(booster))
        counts.set(feature, (counts.get(feature) ?? 0) + splits);
    }
    const manifest: FilterManifest = {
      schemaVersion: filterSchemaVersion,
      version,
      featureNames: filter.featureNames,
      threshold: filter.threshold,
      models,
      importance: [...counts.entries()]
        .map(([feature, splits]) => ({ feature, splits }))
        .sort((a, b) => b.splits - a.splits),
      fit,
    };
    // features.json last: a version is complete once its manifest exists.
    const featuresKey = filterManifestKey(version);
    await this.#store.put(featuresKey, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), {
      contentType: 'application/json',
    });
    return { modelKey: filterFileKey(version, 'model.txt'), featuresKey };
  }

  async load(version: string): Promise<Filter> {
    let bytes: Buffer;
    try {
      bytes = await this.#store.getBytes(filterManifestKey(version));
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`filter version "${version}"`, { cause: err });
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new ValidationError('features', 'not JSON', { cause: err });
    }
    const manifest = parseFilterManifest(json);
    if (manifest.version !== version) {
      throw new ValidationError('features.version', `names ${manifest.version}, stored as ${version}`);
    }
    const boosters: Booster[] = [];
    for (const model of manifest.models) {
      boosters.push(parseModel((await this.#store.getBytes(filterFileKey(version, model))).toString('utf8')));
    }
    return checkFilter({ version, boosters, featureNames: manifest.featureNames, threshold: manifest.threshold });
  }

  async latest(): Promise<string | undefined> {
    const versions = (await this.#store.list(filtersPrefix))
      .map((info) => parseFilterManifestKey(info.key))
      .filter((v): v is string => v !== undefined)
      .sort();
    return versions.at(-1);
  }
}

/** Filters in memory (a service without a Store; tests). */
export class MemoryFilterRepository implements FilterRepository {
  readonly #filters = new Map<string, Filter>();

  save(filter: Filter): Promise<{ modelKey: string; featuresKey: string }> {
    return new Promise((resolve) => {
      const version = checkSegment('version', filter.version);
      this.#filters.set(version, checkFilter(filter));
      resolve({ modelKey: filterFileKey(version, 'model.txt'), featuresKey: filterManifestKey(version) });
    });
  }

  load(version: string): Promise<Filter> {
    const filter = this.#filters.get(version);
    return filter ? Promise.resolve(filter) : Promise.reject(new NotFoundError(`filter version "${version}"`));
  }

  latest(): Promise<string | undefined> {
    return Promise.resolve([...this.#filters.keys()].sort().at(-1));
  }
}
