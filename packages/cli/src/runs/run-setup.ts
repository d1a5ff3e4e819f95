/**
 * The dataset of a run `kzr run start` creates, resolved to one stored in the Store (ingested
 * from a folder, or generated when the spec asks for a synthetic one) with the dataset's digest.
 * The rest of creating a run (its spec, name and `run.json`) is the trainer's (`@kzr/trainer`).
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

import { checkSegment } from '@kzr/artifacts';
import type { RunSpec } from '@kzr/pipeline';
import type { Bus, Store } from '@kzr/platform';
import { type StoredRunDataset, storedDatasetDigest, syntheticDatasetName } from '@kzr/trainer';

import { UsageError } from '../args.js';

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

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/** A dataset in the Store, as a run reads it, and how it got there. */
export interface RunDataset extends StoredRunDataset {
  /** Already stored, ingested from a folder, or generated and ingested. */
  readonly source: 'stored' | 'folder' | 'synthetic';
}

/** Options of {@link resolveRunDataset}. */
export interface ResolveDatasetOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly spec: RunSpec;
  /** `--dataset`: a stored dataset's name, or a Kaggle-layout or CODH folder to ingest. */
  readonly dataset: string | undefined;
  /** Generated datasets are written under `<dataDir>/work/` before they are ingested. */
  readonly dataDir: string;
}

/**
 * The run's dataset: `--dataset` (a Kaggle-layout folder, one with `train.csv`, or CODH book folders, is ingested under {@link datasetNameOfFolder}; a
 * name must be stored), else the spec's name, else its synthetic dataset (generated with the
 * spec's seed and ingested under {@link syntheticDatasetName}, or reused when stored already).
 */
export async function resolveRunDataset(o: ResolveDatasetOptions): Promise<RunDataset> {
  const { ingestCodhBooks, ingestKaggleDir } = await import('@kzr/preprocess');
  if (o.dataset !== undefined && (await isFolder(o.dataset))) {
    const name = datasetNameOfFolder(o.dataset);
    const target = { dataset: name, store: o.store, bus: o.bus };
    // A Kaggle-layout folder has its train.csv; anything else is read as CODH book folders.
    if (await isFile(join(o.dataset, 'train.csv'))) await ingestKaggleDir({ ...target, sourceDir: o.dataset });
    else await ingestCodhBooks({ ...target, sourceDirs: [o.dataset] });
    return { name, digest: (await storedDatasetDigest(o.store, name))!, source: 'folder', synthetic: undefined };
  }
  const named = o.dataset ?? o.spec.dataset.name;
  if (named !== undefined) {
    const field = o.dataset === undefined ? 'spec.dataset.name' : '--dataset';
    const digest = await storedDatasetDigest(o.store, checkSegment(field, named));
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
  const stored = await storedDatasetDigest(o.store, name);
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
  return { name, digest: (await storedDatasetDigest(o.store, name))!, source: 'synthetic', synthetic };
}
