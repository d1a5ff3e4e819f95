/**
 * Labelled crops for training and validation, read from either a shard dataset (a directory
 * with `index.json` and `shard-NNNNN.bin`, DESIGN.md "Dataset shards") or a crop list: a CSV
 * file of `label,path` lines without header, paths relative to the CSV's directory, images in
 * any format sharp decodes (a `label,path` header line is skipped). Crops whose path contains `pseudo_images/` count as pseudo-labelled
 * (refinement targets ×0.9).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { undersampleForEpoch, type Rng } from '@kzr/core';
import { decodeImage, parseShardIndex, readShardRecordAt, type RawImage } from '@kzr/imaging';

import { MlValidationError } from '../errors.js';

/** One training or validation crop. */
export interface LabelledCrop {
  readonly image: RawImage;
  readonly label: string;
  /** Book id when known (shards), else ''. */
  readonly book: string;
  readonly pseudo: boolean;
  /** The crop's path as its CSV lists it (CSV input only). */
  readonly path?: string;
}

/** Reads crops from a shard directory or a `label,path` CSV (or a directory holding `crops.csv`). */
export async function loadCrops(path: string, field = 'crops'): Promise<LabelledCrop[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new MlValidationError(field, `${path} does not exist`);
  if (info.isDirectory()) {
    const index = await readFile(join(path, 'index.json'), 'utf8').catch(() => undefined);
    if (index !== undefined) return loadShards(path, index);
    const csv = join(path, 'crops.csv');
    if (await stat(csv).catch(() => undefined)) return loadCsv(csv, field);
    throw new MlValidationError(field, `${path} holds neither index.json (shards) nor crops.csv`);
  }
  return loadCsv(path, field);
}

async function loadShards(dir: string, indexText: string): Promise<LabelledCrop[]> {
  const index = parseShardIndex(JSON.parse(indexText));
  const shards = await Promise.all(index.shards.map((name) => readFile(join(dir, name))));
  return index.records.map((r) => ({
    image: readShardRecordAt(shards[r.shard]!, r.offset),
    label: r.label,
    book: r.book,
    pseudo: false,
  }));
}

async function loadCsv(file: string, field: string): Promise<LabelledCrop[]> {
  const base = dirname(resolve(file));
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
  // `kzr preprocess crops` writes a `label,path` header; upstream lists have none.
  if (lines[0]?.trim() === 'label,path') lines.shift();
  const out: LabelledCrop[] = [];
  for (const [i, line] of lines.entries()) {
    const comma = line.indexOf(',');
    if (comma <= 0 || comma === line.length - 1) {
      throw new MlValidationError(`${field}:${i + 1}`, `expected "label,path", got ${JSON.stringify(line)}`);
    }
    const label = line.slice(0, comma).trim();
    const rel = line.slice(comma + 1).trim();
    const bytes = await readFile(join(base, rel)).catch((err: unknown) => {
      throw new MlValidationError(`${field}:${i + 1}`, `cannot read ${rel}: ${(err as Error).message}`);
    });
    out.push({ image: await decodeImage(bytes), label, book: '', pseudo: rel.includes('pseudo_images/'), path: rel });
  }
  if (out.length === 0) throw new MlValidationError(field, `${file} lists no crops`);
  return out;
}

/** The sorted class list of a training set. */
export function classList(crops: readonly LabelledCrop[]): string[] {
  return [...new Set(crops.map((c) => c.label))].sort();
}

/** How an epoch's training rows are undersampled (spec §2.4). */
export interface EpochSampling {
  /** Rows kept per class; 0 keeps every row (refinement never undersamples). */
  readonly maxPerClass: number;
  /** The run's seed. */
  readonly seed: number;
  /** The epoch (0-based); each epoch draws its subset afresh. */
  readonly epoch: number;
}

/**
 * One epoch's sample order, as indices into `crops`: every class with more than
 * `maxPerClass` rows is cut to a random subset by core's {@link undersampleForEpoch} (a pure
 * function of seed and epoch), then `rng` shuffles the kept rows.
 */
export function epochOrder(
  crops: readonly Pick<LabelledCrop, 'label'>[],
  sampling: EpochSampling,
  rng: Rng,
): Int32Array {
  const rows = crops.map((crop, index) => ({ code: crop.label, index }));
  const kept =
    sampling.maxPerClass > 0
      ? undersampleForEpoch(rows, { maxPerClass: sampling.maxPerClass, seed: sampling.seed, epoch: sampling.epoch })
      : rows;
  return rng.shuffle(Int32Array.from(kept, (row) => row.index));
}
