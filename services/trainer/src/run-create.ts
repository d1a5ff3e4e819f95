/**
 * Creating a run: its spec from a preset or a file (model configurations inlined, read relative
 * to the spec file), its name, and its `run.json` with no records yet, on a dataset already in
 * the Store (the caller resolves it: `kzr run start` ingests a folder or generates the synthetic
 * one first). A run requested by event or by a caller's id gets a name derived from that id, so
 * asking twice creates it once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { checkSegment, datasetDigest, readRunRecord, writeRunRecord } from '@kzr/artifacts';
import {
  parseRunSpec,
  resolveModelConfigs,
  type RunRecord,
  runRecordSchemaVersion,
  type RunSpec,
  type SyntheticDatasetSpec,
} from '@kzr/pipeline';
import { ConflictError, NotFoundError, type Store, ValidationError } from '@kzr/platform';

import { repoRoot } from './paths.js';

/** Where a spec comes from: a preset of `configs/runs/`, or a file. */
export type SpecSource = { readonly preset: string } | { readonly file: string };

/**
 * Reads a run spec and inlines its model configurations (paths relative to the spec file). A
 * bad one is a ValidationError naming `field` (by default the `kzr run start` flag).
 */
export async function loadRunSpec(
  source: SpecSource,
  field = 'preset' in source ? '--preset' : '--spec',
): Promise<RunSpec> {
  const file =
    'preset' in source
      ? join(repoRoot, 'configs', 'runs', `${checkSegment(field, source.preset)}.json`)
      : resolve(source.file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ValidationError(field, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
    });
  }
  return resolveModelConfigs(parseRunSpec(text), (path) => {
    const config = resolve(dirname(file), path);
    try {
      return JSON.parse(readFileSync(config, 'utf8'));
    } catch (err) {
      throw new ValidationError(field, `model configuration ${config}: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** The name a generated synthetic dataset is stored under: its parameters. */
export function syntheticDatasetName(s: SyntheticDatasetSpec): string {
  return `synth-${s.books}x${s.pagesPerBook}-h${s.holdoutBooks}-c${s.classes}-s${s.seed}`;
}

/** The digest of dataset `name` in the Store (artifacts' `datasetDigest`); undefined when it is not stored. */
export async function storedDatasetDigest(store: Store, name: string): Promise<string | undefined> {
  try {
    return await datasetDigest(store, name);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** A dataset in the Store, as a run reads it. */
export interface StoredRunDataset {
  readonly name: string;
  /** artifacts' `datasetDigest`: the run's external input. */
  readonly digest: string;
  /** The spec's synthetic dataset, when that is what it is. */
  readonly synthetic: SyntheticDatasetSpec | undefined;
}

/** A new run name: `r-<yyyymmdd>-<hhmmss>-<4 hex>` (UTC). */
export function newRunName(now = new Date()): string {
  const t = now.toISOString();
  return `r-${t.slice(0, 10).replaceAll('-', '')}-${t.slice(11, 19).replaceAll(':', '')}-${randomBytes(2).toString('hex')}`;
}

const runNamePattern = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/** Checks a run name: it labels the run's Jobs, so a Kubernetes label value (63 characters, alphanumeric ends). */
export function checkRunName(field: string, run: string): string {
  if (!runNamePattern.test(run)) {
    throw new ValidationError(
      field,
      `expected at most 63 letters, digits, '.', '_' or '-', starting and ending with a letter or digit, got ${JSON.stringify(run)}`,
    );
  }
  return run;
}

/**
 * The run a request id names: the id itself when it is a run name, else `r-` and 16 hex of its
 * sha256. The same request id always gives the same run, so a request delivered twice (a
 * redelivered `kzr.training.requested`, a retried StartRun) creates one run.
 */
export function runNameOfRequest(requestId: string): string {
  if (runNamePattern.test(requestId)) return requestId;
  return `r-${createHash('sha256').update(requestId).digest('hex').slice(0, 16)}`;
}

/** The record of run `run`, or undefined when there is none. */
export async function findRunRecord(store: Store, run: string): Promise<RunRecord | undefined> {
  try {
    return await readRunRecord(store, run);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * Writes the record of a new run: the spec with its dataset resolved (its name; the synthetic
 * parameters only when it is the spec's synthetic dataset), the dataset's digest, no phase
 * records. A ConflictError when the run exists.
 */
export async function createRun(
  store: Store,
  run: string,
  spec: RunSpec,
  dataset: StoredRunDataset,
  now = new Date(),
): Promise<RunRecord> {
  checkRunName('run', run);
  if ((await findRunRecord(store, run)) !== undefined) throw new ConflictError(`run "${run}"`);
  const record: RunRecord = {
    schemaVersion: runRecordSchemaVersion,
    run,
    createdAt: now.toISOString(),
    spec: { ...spec, dataset: { name: dataset.name, synthetic: dataset.synthetic } },
    external: { dataset: dataset.digest },
    events: [],
  };
  await writeRunRecord(store, record);
  return record;
}
