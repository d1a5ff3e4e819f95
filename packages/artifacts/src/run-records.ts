/**
 * Run records in the Store: `runs/<run>/run.json`, the run's spec and phase records
 * (`@kzr/pipeline`'s `RunRecord`, schema version 1). One controller writes a run's record (the
 * trainer, or `kzr run start` on one machine) and rewrites it whole after each record it adds;
 * everyone else only reads it. A request to cancel a run is its own object,
 * `runs/<run>/cancel.json` ({@link requestRunCancel}), which the controller polls and records as a
 * `cancel-requested` record: so `kzr run cancel` in another process never writes `run.json`.
 */
import { formatRunRecord, parseRunRecord, type RunRecord } from '@kzr/pipeline';
import { NotFoundError, type PutResult, type Store, ValidationError } from '@kzr/platform';

import { parseRunRecordKey, runCancelRequestKey, runRecordKey, runsPrefix } from './keys.js';
import { getJson, putJson, putJsonText } from './schema.js';

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

/** A request to cancel a run (`runs/<run>/cancel.json`). */
export interface RunCancelRequest {
  readonly reason: string | undefined;
  readonly at: string;
}

/** Asks the run's controller to cancel it; the run must exist (NotFoundError otherwise). */
export async function requestRunCancel(store: Store, run: string, reason?: string, at = new Date()): Promise<void> {
  await store.stat(runRecordKey(run)).catch((err: unknown) => {
    throw err instanceof NotFoundError ? new NotFoundError(`run "${run}"`, { cause: err }) : err;
  });
  await putJson(store, runCancelRequestKey(run), { reason, at: at.toISOString() });
}

/** The cancel request of a run, or undefined when nobody asked. */
export async function readRunCancelRequest(store: Store, run: string): Promise<RunCancelRequest | undefined> {
  let json: unknown;
  try {
    json = await getJson(store, runCancelRequestKey(run), 'cancel');
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (typeof o.at !== 'string' || Number.isNaN(Date.parse(o.at))) {
    throw new ValidationError('cancel.at', 'expected an RFC 3339 time');
  }
  if (o.reason !== undefined && typeof o.reason !== 'string')
    throw new ValidationError('cancel.reason', 'expected a string');
  return { reason: o.reason, at: o.at };
}
