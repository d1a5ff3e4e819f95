/**
 * Run records in the Store: `runs/<run>/run.json`, the run's spec and phase records
 * (`@kzr/pipeline`'s `RunRecord`, schema version 1). One controller writes a run's record (the
 * trainer, or `kzr run start` on one machine) and rewrites it whole after each record it adds;
 * everyone else only reads it.
 */
import { formatRunRecord, parseRunRecord, type RunRecord } from '@kzr/pipeline';
import { NotFoundError, type PutResult, type Store, ValidationError } from '@kzr/platform';

import { parseRunRecordKey, runRecordKey, runsPrefix } from './keys.js';
import { getJson, putJsonText } from './schema.js';

/** Reads and checks `runs/<run>/run.json`; NotFoundError when the run does not exist. */
export async function readRunRecord(store: Store, run: string): Promise<RunRecord> {
  let json: unknown;
  try {
    json = await getJson(store, runRecordKey(run), 'run');
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`run "${run}"`, { cause: err });
    throw err;
  }
  const record = parseRunRecord(json);
  if (record.run !== run) throw new ValidationError('run.run', `names run ${record.run}, stored as ${run}`);
  return record;
}

/** Writes (replaces) a run's record; only the run's one controller calls it. */
export async function writeRunRecord(store: Store, record: RunRecord): Promise<PutResult> {
  return putJsonText(store, runRecordKey(record.run), formatRunRecord(record));
}

/** The runs in the Store, by name. */
export async function listRuns(store: Store): Promise<string[]> {
  return (await store.list(runsPrefix))
    .map((info) => parseRunRecordKey(info.key))
    .filter((run): run is string => run !== undefined)
    .sort();
}
