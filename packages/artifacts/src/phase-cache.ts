/**
 * Phase cache entries: `cache/<phase>/<input-hash>.json` (schema version
 * {@link phaseCacheSchemaVersion}), a pointer to the manifest of a finished phase with that input
 * hash. A phase writes its entry after its manifest, so an entry means the phase is complete even
 * if its Job has vanished. A lookup checks that the manifest it points at is still there with
 * the same sha256: an entry whose manifest was deleted is a miss (the phase runs again), not a
 * hit on missing data.
 */
import { PhaseName, type CachedPhase } from '@kzr/pipeline';
import { NotFoundError, type PutResult, type Store, ValidationError } from '@kzr/platform';

import { checkRelativeKey, checkSegment, phaseCacheKey } from './keys.js';
import { checkSchemaVersion, getJson, putJson } from './schema.js';

/** Schema version of the cache entries this code reads and writes. */
export const phaseCacheSchemaVersion = 1 as const;

/** A cache entry. */
export interface PhaseCacheEntry extends CachedPhase {
  readonly schemaVersion: typeof phaseCacheSchemaVersion;
  /** The phase name (`first-train`), as in the key. */
  readonly phase: PhaseName;
  readonly inputHash: string;
  /** The run whose phase made the outputs. */
  readonly run: string;
  readonly createdAt: string;
}

function sha256Field(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
    throw new ValidationError(field, 'expected 64 lowercase hex digits');
  }
  return value;
}

function checkPhaseName(field: string, value: unknown): PhaseName {
  if (!(Object.values(PhaseName) as unknown[]).includes(value)) {
    throw new ValidationError(
      field,
      `expected one of ${Object.values(PhaseName).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as PhaseName;
}

/** Parses and checks a cache entry; throws a ValidationError naming the bad field. */
export function parsePhaseCacheEntry(value: unknown): PhaseCacheEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('cacheEntry', 'expected an object');
  }
  const o = value as Record<string, unknown>;
  checkSchemaVersion('cacheEntry.schemaVersion', o.schemaVersion, phaseCacheSchemaVersion);
  const phase = checkPhaseName('cacheEntry.phase', o.phase);
  if (typeof o.createdAt !== 'string' || Number.isNaN(Date.parse(o.createdAt))) {
    throw new ValidationError('cacheEntry.createdAt', 'expected an RFC 3339 time');
  }
  return {
    schemaVersion: phaseCacheSchemaVersion,
    phase,
    inputHash: sha256Field('cacheEntry.inputHash', o.inputHash),
    run: checkSegment('cacheEntry.run', o.run),
    manifestKey: checkRelativeKey('cacheEntry.manifestKey', o.manifestKey),
    manifestSha256: sha256Field('cacheEntry.manifestSha256', o.manifestSha256),
    createdAt: o.createdAt,
  };
}

/** Options of {@link writePhaseCacheEntry}. */
export interface WritePhaseCacheEntryOptions extends CachedPhase {
  readonly phase: PhaseName;
  readonly inputHash: string;
  readonly run: string;
  /** @default now */
  readonly createdAt?: Date;
}

/** Writes the cache entry of a finished phase, after its manifest. */
export async function writePhaseCacheEntry(store: Store, options: WritePhaseCacheEntryOptions): Promise<PutResult> {
  const entry = parsePhaseCacheEntry({
    schemaVersion: phaseCacheSchemaVersion,
    phase: options.phase,
    inputHash: options.inputHash,
    run: options.run,
    manifestKey: options.manifestKey,
    manifestSha256: options.manifestSha256,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
  });
  return putJson(store, phaseCacheKey(entry.phase, entry.inputHash), entry);
}

/**
 * The cache entry of `phase` for `inputHash`, or undefined on a miss: no entry, or an entry
 * whose manifest is gone. A manifest whose bytes differ from the entry's sha256 throws core's
 * IntegrityError (the Store is damaged; nobody should build on it quietly).
 */
export async function readPhaseCacheEntry(
  store: Store,
  phase: PhaseName,
  inputHash: string,
): Promise<PhaseCacheEntry | undefined> {
  let entry: PhaseCacheEntry;
  try {
    entry = parsePhaseCacheEntry(await getJson(store, phaseCacheKey(phase, inputHash), 'cacheEntry'));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  if (entry.phase !== phase || entry.inputHash !== inputHash) {
    throw new ValidationError(
      'cacheEntry.inputHash',
      `names ${entry.phase}/${entry.inputHash}, stored as ${phase}/${inputHash}`,
    );
  }
  try {
    await store.getBytes(entry.manifestKey, { sha256: entry.manifestSha256 });
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  return entry;
}

/**
 * Looks up the cache for phases the planner found ready (pipeline's `readyPhases`): the
 * `cache` option of `planRun`, by input hash.
 */
export async function lookupPhaseCache(
  store: Store,
  ready: Iterable<{ readonly node: { readonly phase: PhaseName }; readonly inputHash: string }>,
): Promise<Map<string, CachedPhase>> {
  const found = new Map<string, CachedPhase>();
  for (const { node, inputHash } of ready) {
    const entry = await readPhaseCacheEntry(store, node.phase, inputHash);
    if (entry !== undefined)
      found.set(inputHash, { manifestKey: entry.manifestKey, manifestSha256: entry.manifestSha256 });
  }
  return found;
}
