/**
 * Creating a run (`kzr run start`): its spec from a preset or a file (model configurations
 * inlined, read relative to the spec file), its dataset resolved to one stored in the Store
 * (ingested from a folder, or generated when the spec asks for a synthetic one) with the
 * dataset's digest, and its `run.json` with no records yet.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { checkSegment, datasetDigest, readRunRecord, writeRunRecord } from '@kzr/artifacts';
import {
  parseRunSpec,
  resolveModelConfigs,
  type RunRecord,
  runRecordSchemaVersion,
  type RunSpec,
  type SyntheticDatasetSpec,
} from '@kzr/pipeline';
import { type Bus, ConflictError, NotFoundError, type Store } from '@kzr/platform';

import { UsageError } from '../args.js';
import { repoRoot } from './paths.js';

/** Where a spec comes from: a preset of `configs/runs/`, or a file. */
export type SpecSource = { readonly preset: string } | { readonly file: string };

/** Reads a run spec and inlines its model configurations (paths relative to the spec file). */
export async function loadRunSpec(source: SpecSource): Promise<RunSpec> {
  const field = 'preset' in source ? '--preset' : '--spec';
  const file =
    'preset' in source
      ? join(repoRoot, 'configs', 'runs', `${checkSegment('--preset', source.preset)}.json`)
      : resolve(source.file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(field, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
    });
  }
  return resolveModelConfigs(parseRunSpec(text), (path) => {
    const config = resolve(dirname(file), path);
    try {
      return JSON.parse(readFileSync(config, 'utf8'));
    } catch (err) {
      throw new UsageError(field, `model configuration ${config}: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** The name a generated synthetic dataset is stored under: its parameters. */
export function syntheticDatasetName(s: SyntheticDatasetSpec): string {
  return `synth-${s.books}x${s.pagesPerBook}-h${s.holdoutBooks}-c${s.classes}-s${s.seed}`;
}

/** The dataset name of a folder: its base name, lowercased, other characters as `-`. */
export function datasetNameOfFolder(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return checkSegment('--dataset', name.slice(0, 100) || 'dataset');
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

async function storedDigest(store: Store, name: string): Promise<string | undefined> {
  try {
    return await datasetDigest(store, name);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** A dataset in the Store, as a run reads it. */
export interface RunDataset {
  readonly name: string;
  /** {@link datasetDigest}: the run's external input. */
  readonly digest: string;
  /** How it got there: already stored, ingested from a folder, or generated and ingested. */
  readonly source: 'stored' | 'folder' | 'synthetic';
  /** The spec's synthetic dataset, when that is what it is. */
  readonly synthetic: SyntheticDatasetSpec | undefined;
}

/** Options of {@link resolveRunDataset}. */
export interface ResolveDatasetOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly spec: RunSpec;
  /** `--dataset`: a stored dataset's name, or a Kaggle-layout folder to ingest. */
  readonly dataset: string | undefined;
  /** Generated datasets are written under `<dataDir>/work/` before they are ingested. */
  readonly dataDir: string;
}

/**
 * The run's dataset: `--dataset` (a folder is ingested under {@link datasetNameOfFolder}; a
 * name must be stored), else the spec's name, else its synthetic dataset (generated with the
 * spec's seed and ingested under {@link syntheticDatasetName}, or reused when stored already).
 */
export async function resolveRunDataset(o: ResolveDatasetOptions): Promise<RunDataset> {
  const { ingestKaggleDir } = await import('@kzr/preprocess');
  if (o.dataset !== undefined && (await isFolder(o.dataset))) {
    const name = datasetNameOfFolder(o.dataset);
    await ingestKaggleDir({ dataset: name, store: o.store, bus: o.bus, sourceDir: o.dataset });
    return { name, digest: (await storedDigest(o.store, name))!, source: 'folder', synthetic: undefined };
  }
  const named = o.dataset ?? o.spec.dataset.name;
  if (named !== undefined) {
    const field = o.dataset === undefined ? 'spec.dataset.name' : '--dataset';
    const digest = await storedDigest(o.store, checkSegment(field, named));
    if (digest === undefined) {
      throw new UsageError(
        field,
        `no dataset "${named}" in the Store (give a folder, or store it with kzr data ingest)`,
      );
    }
    return { name: named, digest, source: 'stored', synthetic: undefined };
  }
  const synthetic = o.spec.dataset.synthetic!;
  const name = syntheticDatasetName(synthetic);
  const stored = await storedDigest(o.store, name);
  if (stored !== undefined) return { name, digest: stored, source: 'stored', synthetic };
  const { generateSyntheticDataset } = await import('@kzr/data');
  await mkdir(join(o.dataDir, 'work'), { recursive: true });
  const dir = await mkdtemp(join(o.dataDir, 'work', `${name}-`));
  try {
    const outDir = join(dir, 'books');
    await generateSyntheticDataset({ ...synthetic, outDir });
    await ingestKaggleDir({ dataset: name, store: o.store, bus: o.bus, sourceDir: outDir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { name, digest: (await storedDigest(o.store, name))!, source: 'synthetic', synthetic };
}

/** A new run name: `r-<yyyymmdd>-<hhmmss>-<4 hex>` (UTC). */
export function newRunName(now = new Date()): string {
  const t = now.toISOString();
  return `r-${t.slice(0, 10).replaceAll('-', '')}-${t.slice(11, 19).replaceAll(':', '')}-${randomBytes(2).toString('hex')}`;
}

/**
 * Writes the record of a new run: the spec with its dataset resolved (its name; the synthetic
 * parameters only when it is the spec's synthetic dataset), the dataset's digest, no phase records. A ConflictError when the run exists.
 */
export async function createRun(
  store: Store,
  run: string,
  spec: RunSpec,
  dataset: RunDataset,
  now = new Date(),
): Promise<RunRecord> {
  // The name labels the run's Jobs: a Kubernetes label value (63 characters, ending alphanumeric).
  if (!/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(run)) {
    throw new UsageError(
      '--run',
      `expected at most 63 letters, digits, '.', '_' or '-', starting and ending with a letter or digit, got ${JSON.stringify(run)}`,
    );
  }
  const exists = await readRunRecord(store, run).then(
    () => true,
    (err: unknown) => {
      if (err instanceof NotFoundError) return false;
      throw err;
    },
  );
  if (exists) throw new ConflictError(`run "${run}"`);
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
