/**
 * Retention (`kzr gc`): what the Store may let go, decided from the Store alone.
 *
 * - Runs: the newest `keepRuns` final runs (succeeded, failed, cancelled; newest by creation)
 *   stay, and every run that is not final (queued, running: a controller may be writing it)
 *   stays. A final run beyond them goes, `runs/<run>/` and `results/<run>/`, unless a run that
 *   stays read its outputs (a phase it completed from the cache names a manifest of the older
 *   run): that run is held, so no record that stays points at a deleted manifest. A run whose
 *   record cannot be read stays.
 * - Cache entries: an entry goes with the run that made it, and an entry whose run has no record
 *   any more goes once it is stale; every other entry stays (its run stays, so its manifest is
 *   there).
 * - Model-set versions: per set the newest `keepVersions` stay, and so do the served version,
 *   the promoted one and every version the promotion record names as an earlier one: rollback
 *   walks back through that list one version at a time, so any of them may be served again.
 * - Staging: the objects of a result that never became visible (a model-set version or filter
 *   version without its manifest, a split's crops without `index.json`, a run folder without
 *   `run.json`, results of a run that does not exist) go once the newest of them is older than
 *   `staleAfterMs` (an hour): a younger one may still be being written. The Store adapters'
 *   own temporaries (`.kzr-tmp/`) are theirs: the filesystem Store sweeps them when it opens.
 *
 * A result goes visibility key first (the run's cache entries, then its `run.json`; a version's
 * manifest), so an interrupted collection leaves leftovers that the next one sweeps as staging,
 * never a visible result with missing parts.
 */
import { buildPhaseGraph, isFinalRunStatus, reduceRunState, type RunRecord, type RunStatus } from '@kzr/pipeline';
import { type ObjectInfo, type Store } from '@kzr/platform';

import {
  cropsRootPrefix,
  filtersPrefix,
  modelSetManifestKey,
  modelSetsPrefix,
  modelSetVersionPrefix,
  phaseCachePrefix,
  resultFolderOf,
  ResultFolderKind,
  resultsPrefix,
  runPrefix,
  runRecordKey,
  runsPrefix,
} from './keys.js';
import { listModelSetVersions, readPromotion } from './model-set-promotion.js';
import { parsePhaseCacheEntry, type PhaseCacheEntry } from './phase-cache.js';
import { readRunRecord } from './run-records.js';
import { getJson } from './schema.js';

/** Options of {@link collectGarbage}. */
export interface RetentionOptions {
  /** Final runs to keep, the newest by creation. @default 10 */
  readonly keepRuns?: number;
  /** Published versions to keep per model set, the newest. @default 3 */
  readonly keepVersions?: number;
  /** Reports what would go and removes nothing. @default false */
  readonly dryRun?: boolean;
  /** Age (of its newest object) after which an incomplete result is stale. @default 3_600_000 (an hour) */
  readonly staleAfterMs?: number;
  /** The time ages are measured at. @default now */
  readonly now?: Date;
}

/** What was (or, in a dry run, would be) removed; `objects` and `bytes` count every key removed for it. */
export type Removal =
  | {
      readonly type: 'run';
      readonly run: string;
      readonly status: RunStatus;
      readonly createdAt: string;
      readonly objects: number;
      readonly bytes: number;
    }
  | {
      readonly type: 'cache-entry';
      readonly key: string;
      /** The run that made it. */
      readonly run: string;
      readonly objects: number;
      readonly bytes: number;
    }
  | {
      readonly type: 'model-version';
      readonly modelSet: string;
      readonly version: string;
      readonly createdAt: string;
      readonly objects: number;
      readonly bytes: number;
    }
  | {
      readonly type: 'staging';
      /** The folder (`models/kuzushiji/v7/`). */
      readonly prefix: string;
      readonly kind: ResultFolderKind;
      /** Its newest object's time. */
      readonly lastModified: string;
      readonly objects: number;
      readonly bytes: number;
    };

/** What {@link collectGarbage} did. */
export interface RetentionReport {
  readonly dryRun: boolean;
  /** In the order removed. */
  readonly removed: readonly Removal[];
  /** Final runs beyond `keepRuns` that stay because a run that stays read their outputs. */
  readonly held: ReadonlyArray<{ readonly run: string; readonly readBy: string }>;
}

/** Objects by the result folder they lie in (`runs/r1/` -> its objects). */
function groupByFolder(infos: readonly ObjectInfo[]): Map<string, ObjectInfo[]> {
  const groups = new Map<string, ObjectInfo[]>();
  for (const info of infos) {
    const folder = resultFolderOf(info.key);
    if (folder === undefined) continue;
    groups.set(folder.prefix, [...(groups.get(folder.prefix) ?? []), info]);
  }
  return groups;
}

function newest(infos: readonly ObjectInfo[]): number {
  return Math.max(...infos.map((i) => i.lastModified.getTime()));
}

function sizeOf(infos: readonly ObjectInfo[]): { objects: number; bytes: number } {
  return { objects: infos.length, bytes: infos.reduce((sum, i) => sum + i.size, 0) };
}

/** The run whose folder a key lies in (`runs/<run>/...`), or undefined. */
function runOfKey(key: string): string | undefined {
  const folder = resultFolderOf(key);
  return folder?.kind === ResultFolderKind.Run ? key.split('/')[1] : undefined;
}

interface RunInfo {
  readonly run: string;
  readonly record: RunRecord;
  readonly status: RunStatus;
}

/** Reads the runs' records; an unreadable record is left out (its run stays). */
async function readRuns(store: Store, runs: readonly string[]): Promise<{ read: RunInfo[]; unreadable: string[] }> {
  const read: RunInfo[] = [];
  const unreadable: string[] = [];
  for (const run of runs) {
    try {
      const record = await readRunRecord(store, run);
      read.push({ run, record, status: reduceRunState(buildPhaseGraph(record.spec), record.events).status });
    } catch {
      unreadable.push(run);
    }
  }
  return { read, unreadable };
}

/** Which runs stay: the newest final ones, every other, and those whose outputs they read. */
function runsToKeep(
  runs: readonly RunInfo[],
  keepRuns: number,
): { keep: Set<string>; held: Array<{ run: string; readBy: string }> } {
  const final = runs
    .filter((r) => isFinalRunStatus(r.status))
    .sort((a, b) => Date.parse(b.record.createdAt) - Date.parse(a.record.createdAt) || b.run.localeCompare(a.run));
  const keep = new Set(runs.filter((r) => !isFinalRunStatus(r.status)).map((r) => r.run));
  for (const r of final.slice(0, keepRuns)) keep.add(r.run);
  const byName = new Map(runs.map((r) => [r.run, r]));
  const held: Array<{ run: string; readBy: string }> = [];
  const queue = [...keep];
  while (queue.length > 0) {
    const reader = queue.pop()!;
    for (const event of byName.get(reader)?.record.events ?? []) {
      if (event.type !== 'completed') continue;
      const producer = runOfKey(event.manifestKey);
      if (producer === undefined || keep.has(producer) || !byName.has(producer)) continue;
      keep.add(producer);
      held.push({ run: producer, readBy: reader });
      queue.push(producer);
    }
  }
  return { keep, held };
}

/** Reads a cache entry; undefined when it cannot be read (a lookup treats it as a miss, and it stays). */
async function readCacheEntry(store: Store, key: string): Promise<PhaseCacheEntry | undefined> {
  try {
    return parsePhaseCacheEntry(await getJson(store, key, 'cacheEntry'));
  } catch {
    return undefined;
  }
}

/** Deletes keys, `first` before the others (a few at a time). */
async function deleteKeys(store: Store, first: readonly string[], rest: readonly string[]): Promise<void> {
  for (const key of first) await store.delete(key);
  const batch = 16;
  for (let i = 0; i < rest.length; i += batch) await Promise.all(rest.slice(i, i + batch).map((k) => store.delete(k)));
}

/**
 * Removes what retention lets go (see the module comment) and returns what it removed; with
 * `dryRun`, only what it would remove.
 */
export async function collectGarbage(store: Store, options: RetentionOptions = {}): Promise<RetentionReport> {
  const keepRuns = options.keepRuns ?? 10;
  const keepVersions = options.keepVersions ?? 3;
  const dryRun = options.dryRun ?? false;
  const staleBefore = (options.now ?? new Date()).getTime() - (options.staleAfterMs ?? 3_600_000);
  const removed: Removal[] = [];
  const remove = async (removal: Removal, first: readonly string[], rest: readonly string[]): Promise<void> => {
    if (!dryRun) await deleteKeys(store, first, rest);
    removed.push(removal);
  };

  // Runs and their results.
  const runFolders = groupByFolder(await store.list(runsPrefix));
  const resultFolders = groupByFolder(await store.list(resultsPrefix()));
  const recorded = [...runFolders.values()]
    .map((infos) => infos.find((i) => resultFolderOf(i.key)?.recordKey === i.key)?.key)
    .filter((key): key is string => key !== undefined)
    .map((key) => runOfKey(key)!);
  const { read, unreadable } = await readRuns(store, recorded);
  const { keep, held } = runsToKeep(read, keepRuns);
  for (const run of unreadable) keep.add(run);
  const gone = read.filter((r) => !keep.has(r.run));
  const goneNames = new Set(gone.map((r) => r.run));

  // Cache entries first: no lookup may hit a run on its way out.
  const known = new Set(recorded);
  for (const info of await store.list(phaseCachePrefix)) {
    const entry = await readCacheEntry(store, info.key);
    if (entry === undefined) continue;
    const dangling = !known.has(entry.run) && info.lastModified.getTime() < staleBefore;
    if (goneNames.has(entry.run) || dangling) {
      await remove({ type: 'cache-entry', key: info.key, run: entry.run, ...sizeOf([info]) }, [info.key], []);
    }
  }
  for (const r of gone) {
    const folder = runFolders.get(runPrefix(r.run)) ?? [];
    const results = resultFolders.get(resultsPrefix(r.run)) ?? [];
    const record = runRecordKey(r.run);
    const rest = [...folder, ...results].map((i) => i.key).filter((k) => k !== record);
    await remove(
      {
        type: 'run',
        run: r.run,
        status: r.status,
        createdAt: r.record.createdAt,
        ...sizeOf([...folder, ...results]),
      },
      [record],
      rest,
    );
  }

  // Model-set versions.
  const versionFolders = groupByFolder(await store.list(modelSetsPrefix()));
  const versions = await listModelSetVersions(store);
  for (const modelSet of new Set(versions.map((v) => v.modelSet))) {
    const promotion = await readPromotion(store, modelSet);
    const named = new Set(promotion ? [promotion.version, ...promotion.previous] : []);
    const ofSet = versions.filter((v) => v.modelSet === modelSet);
    for (const [i, v] of ofSet.entries()) {
      if (i < keepVersions || v.served || named.has(v.version)) continue;
      const infos = versionFolders.get(modelSetVersionPrefix(modelSet, v.version)) ?? [];
      const manifest = modelSetManifestKey(modelSet, v.version);
      await remove(
        { type: 'model-version', modelSet, version: v.version, createdAt: v.createdAt, ...sizeOf(infos) },
        [manifest],
        infos.map((info) => info.key).filter((k) => k !== manifest),
      );
    }
  }

  // Staging: results that never became visible, once stale.
  const staging = new Map([
    ...runFolders,
    ...resultFolders,
    ...versionFolders,
    ...groupByFolder(await store.list(filtersPrefix)),
    ...groupByFolder(await store.list(cropsRootPrefix)),
  ]);
  for (const [prefix, infos] of staging) {
    const folder = resultFolderOf(infos[0]!.key)!;
    // A run's results belong to the run: leftovers once it has no record (a removed run's went with it).
    const complete =
      folder.recordKey === undefined
        ? known.has(prefix.slice(resultsPrefix().length, -1))
        : infos.some((i) => i.key === folder.recordKey);
    if (complete || newest(infos) >= staleBefore) continue;
    await remove(
      {
        type: 'staging',
        prefix,
        kind: folder.kind,
        lastModified: new Date(newest(infos)).toISOString(),
        ...sizeOf(infos),
      },
      [],
      infos.map((i) => i.key),
    );
  }
  return { dryRun, removed, held };
}
