/**
 * The run record, `runs/<run>/run.json`: the run's spec (defaults filled, model configurations
 * inlined), its external inputs and its phase records in the order they were written. One
 * controller writes it (single writer); everything about a run is derived from it.
 */
import { RunRecordError, RunSpecError } from './errors.js';
import { FieldReader } from './fields.js';
import { parseRunEvent, type RunEvent } from './run-state.js';
import { parseRunSpec, runSpecToJson, type RunSpec } from './run-spec.js';

/** Schema version of the `run.json` this code reads and writes. */
export const runRecordSchemaVersion = 1 as const;

/** A run's record. */
export interface RunRecord {
  readonly schemaVersion: typeof runRecordSchemaVersion;
  /** The run's name (`runs/<run>/`). */
  readonly run: string;
  readonly createdAt: string;
  readonly spec: RunSpec;
  /** sha256 of each external input (pipeline's `ExternalInput`), fixed when the run was created. */
  readonly external: { readonly dataset: string };
  readonly events: readonly RunEvent[];
}

/** Parses and checks a `run.json` (parsed JSON); throws a {@link RunRecordError} naming the bad field. */
export function parseRunRecord(value: unknown): RunRecord {
  const r = new FieldReader((field, problem) => new RunRecordError(field, problem));
  const o = r.object('run', value, ['schemaVersion', 'run', 'createdAt', 'spec', 'external', 'events']);
  if (o.schemaVersion !== runRecordSchemaVersion) {
    r.fail(
      'run.schemaVersion',
      `${o.schemaVersion === undefined ? 'missing' : `unknown schema version ${JSON.stringify(o.schemaVersion)}`}; this kzr reads ${runRecordSchemaVersion}`,
    );
  }
  let spec: RunSpec;
  try {
    spec = parseRunSpec(o.spec);
  } catch (err) {
    if (!(err instanceof RunSpecError)) throw err;
    throw new RunRecordError(`run.${err.field}`, err.problem, { cause: err });
  }
  const external = r.object('run.external', o.external, ['dataset']);
  return {
    schemaVersion: runRecordSchemaVersion,
    run: r.name('run.run', o.run),
    createdAt: r.time('run.createdAt', o.createdAt),
    spec,
    external: { dataset: r.sha256('run.external.dataset', external.dataset) },
    events: r.array('run.events', o.events).map((e, i) => parseRunEvent(e, `run.events[${i}]`)),
  };
}

/** The record as JSON text (two-space indent, trailing newline), as `run.json` holds it. */
export function formatRunRecord(record: RunRecord): string {
  return `${JSON.stringify({ ...record, spec: runSpecToJson(record.spec) }, null, 2)}\n`;
}
