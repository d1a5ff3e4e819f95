/**
 * Which version of a model set is served: the promoted one when a person promoted one
 * (`models/<set>/promotion.json`, with the versions promoted before it for rollback), else the
 * newest published. Inference reads it at start and on every `kzr.models.published`; promote
 * and rollback publish that event for the version they make current, so serving switches.
 */
import { type Bus, EventSubject, NotFoundError, type Store, ValidationError } from '@kzr/platform';

import {
  checkSegment,
  modelSetManifestKey,
  modelSetPromotionKey,
  modelSetsPrefix,
  parseModelSetManifestKey,
} from './keys.js';
import { newestModelSetVersion, readModelSetManifest } from './read-model-set.js';
import { getJson, putJson } from './schema.js';

/** `models/<set>/promotion.json`. */
export interface Promotion {
  /** The promoted version. */
  readonly version: string;
  /** Versions promoted before it, the latest last: what rollback returns to. */
  readonly previous: readonly string[];
}

/** The set's promotion record, or undefined when no version was ever promoted. */
export async function readPromotion(store: Store, modelSet: string): Promise<Promotion | undefined> {
  let value: unknown;
  try {
    value = await getJson(store, modelSetPromotionKey(modelSet), 'promotion');
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  const o = value as { version?: unknown; previous?: unknown };
  if (typeof o.version !== 'string' || !Array.isArray(o.previous) || !o.previous.every((v) => typeof v === 'string')) {
    throw new ValidationError('promotion', 'expected {"version": string, "previous": [string]}');
  }
  return { version: o.version, previous: o.previous as string[] };
}

/** The version of `modelSet` to serve: the promoted one, else the newest published; undefined when none is. */
export async function servedModelSetVersion(store: Store, modelSet: string): Promise<string | undefined> {
  return (await readPromotion(store, modelSet))?.version ?? (await newestModelSetVersion(store, modelSet))?.version;
}

/** Promotes a published version (NotFoundError when it is not published); returns the record. */
export async function promoteVersion(store: Store, modelSet: string, version: string): Promise<Promotion> {
  await readModelSetManifest(store, modelSet, checkSegment('version', version));
  const current = await readPromotion(store, modelSet);
  // The version served before (promoted, or the newest) is where a rollback returns.
  const before = current?.version ?? (await newestModelSetVersion(store, modelSet))?.version;
  const previous = [...(current?.previous ?? [])];
  if (before !== undefined && before !== version) previous.push(before);
  const promotion: Promotion = { version, previous };
  await putJson(store, modelSetPromotionKey(modelSet), promotion);
  return promotion;
}

/** Returns to the version served before the last promotion; a ValidationError when there is none. */
export async function rollbackVersion(store: Store, modelSet: string): Promise<Promotion> {
  const current = await readPromotion(store, modelSet);
  const previous = [...(current?.previous ?? [])];
  const version = previous.pop();
  if (version === undefined)
    throw new ValidationError('--model-set', `${modelSet} has no earlier version to roll back to`);
  const promotion: Promotion = { version, previous };
  await putJson(store, modelSetPromotionKey(modelSet), promotion);
  return promotion;
}

/**
 * Announces on the Bus that `version` of `modelSet` is now the one to serve (after a promote or
 * rollback), as a `kzr.models.published` that running inference services swap on.
 */
export async function announceServedVersion(bus: Bus, modelSet: string, version: string): Promise<void> {
  await bus.publish(
    EventSubject.ModelsPublished,
    { meta: undefined, model: { modelSet, version }, manifestKey: modelSetManifestKey(modelSet, version), runId: '' },
    // A new id each time: serving v1 again after a rollback must be delivered again.
    { id: `models-served-${modelSet}-${version}-${Date.now()}` },
  );
}

/** A published version and whether it is the one served. */
export interface ModelSetVersionInfo {
  readonly modelSet: string;
  readonly version: string;
  readonly createdAt: string;
  readonly served: boolean;
  readonly promoted: boolean;
}

/** Every published version of every set (or of `modelSet`), newest first within a set. */
export async function listModelSetVersions(store: Store, modelSet?: string): Promise<ModelSetVersionInfo[]> {
  const bySet = new Map<string, Array<{ version: string; createdAt: string }>>();
  for (const info of await store.list(modelSetsPrefix(modelSet))) {
    const ref = parseModelSetManifestKey(info.key);
    if (ref === undefined) continue;
    const manifest = await readModelSetManifest(store, ref.modelSet, ref.version).catch(() => undefined);
    if (manifest === undefined) continue;
    bySet.set(ref.modelSet, [
      ...(bySet.get(ref.modelSet) ?? []),
      { version: ref.version, createdAt: manifest.createdAt },
    ]);
  }
  const out: ModelSetVersionInfo[] = [];
  for (const set of [...bySet.keys()].sort()) {
    const versions = bySet.get(set)!.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    const promoted = (await readPromotion(store, set))?.version;
    const served = promoted ?? versions[0]?.version;
    for (const v of versions) {
      out.push({ modelSet: set, ...v, served: v.version === served, promoted: v.version === promoted });
    }
  }
  return out;
}
