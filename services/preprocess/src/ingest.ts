/**
 * Ingest of a Kaggle-layout dataset folder into the Store (DESIGN.md, Artifacts):
 * `train_images/` and `test_images/` pages (or images directly in the folder), `train.csv`,
 * `unicode_translation.csv` and `detections/*.json`, stored under `datasets/<dataset>/`; then one
 * `kzr.pages.ingested` event. Everything is validated before the first object is written.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { parseDetectionSet, parseTrainCsv } from '@kzr/core';
import { sniffImageFormat } from '@kzr/imaging';
import {
  checkSegment,
  datasetDetectionsKey,
  datasetLabelsKey,
  datasetPageKey,
  datasetUnicodeTranslationKey,
} from '@kzr/artifacts';
import { type Bus, EventSubject, type Store, ValidationError } from '@kzr/platform';

/** What an ingest stored. */
export interface IngestResult {
  readonly dataset: string;
  readonly pageIds: readonly string[];
  readonly labelsKey: string;
  readonly unicodeTranslationKey: string;
  readonly detectionKeys: readonly string[];
  /** Id of the published `kzr.pages.ingested` event (derived from the stored content). */
  readonly eventId: string;
  readonly duplicate: boolean;
}

/** Options of {@link ingestKaggleDir}. */
export interface IngestOptions {
  readonly sourceDir: string;
  readonly dataset: string;
  readonly store: Store;
  readonly bus: Bus;
}

const imageExtensions = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp']);
async function listImages(dir: string): Promise<{ pageId: string; path: string; ext: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => imageExtensions.has(extname(n).toLowerCase()))
    .sort()
    .map((n) => ({ pageId: n.slice(0, -extname(n).length), path: join(dir, n), ext: extname(n).toLowerCase() }));
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Stores a Kaggle-layout folder and publishes `kzr.pages.ingested`. */
export async function ingestKaggleDir(options: IngestOptions): Promise<IngestResult> {
  const { sourceDir, dataset, store, bus } = options;
  checkSegment('--dataset', dataset);
  const pages = [
    ...(await listImages(join(sourceDir, 'train_images'))),
    ...(await listImages(join(sourceDir, 'test_images'))),
    ...(await listImages(join(sourceDir, 'images'))),
    ...(await listImages(sourceDir)),
  ];
  if (pages.length === 0) throw new ValidationError('<kaggle-dir>', `no page images found in ${sourceDir}`);
  const seen = new Set<string>();
  for (const p of pages) {
    // The page id becomes a key segment (and a book id); check it before anything is stored.
    checkSegment(p.path, p.pageId);
    if (seen.has(p.pageId)) throw new ValidationError('<kaggle-dir>', `page ${p.pageId} appears twice`);
    seen.add(p.pageId);
  }
  const trainCsv = await readOptional(join(sourceDir, 'train.csv'));
  const translation = await readOptional(join(sourceDir, 'unicode_translation.csv'));
  if (trainCsv !== undefined) {
    const labelled = parseTrainCsv(trainCsv.toString('utf8'), 'train.csv');
    const missing = labelled.find((p) => !seen.has(p.pageId));
    if (missing) throw new ValidationError('train.csv', `labels for page ${missing.pageId}, which has no image`);
  }
  const detectionFiles = (await readdir(join(sourceDir, 'detections')).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json'))
    .sort();
  const detections: { set: string; bytes: Buffer }[] = [];
  for (const name of detectionFiles) {
    const set = checkSegment(`detections/${name}`, name.slice(0, -'.json'.length));
    const bytes = await readFile(join(sourceDir, 'detections', name));
    parseDetectionSet(bytes.toString('utf8'), `detections/${name}`);
    detections.push({ set, bytes });
  }
  // Validate every image's format (by its header) before writing anything; pages are then
  // read one at a time, so a full dataset never sits in memory.
  for (const p of pages) {
    const handle = await open(p.path, 'r');
    try {
      const head = Buffer.alloc(16);
      const { bytesRead } = await handle.read(head, 0, 16, 0);
      if (sniffImageFormat(head.subarray(0, bytesRead)) === undefined) {
        throw new ValidationError(p.path, 'not a JPEG, PNG, TIFF or WebP image');
      }
    } finally {
      await handle.close();
    }
  }

  const digest = createHash('sha256');
  for (const p of pages) {
    const ext = p.ext === '.jpeg' ? '.jpg' : p.ext === '.tif' ? '.tiff' : p.ext;
    const put = await store.put(datasetPageKey(dataset, p.pageId, ext), await readFile(p.path));
    digest.update(`${put.key}:${put.sha256}\n`);
  }
  const labelsKey = trainCsv === undefined ? '' : datasetLabelsKey(dataset);
  if (trainCsv !== undefined) digest.update(`labels:${(await store.put(labelsKey, trainCsv)).sha256}\n`);
  const translationKey = translation === undefined ? '' : datasetUnicodeTranslationKey(dataset);
  if (translation !== undefined) digest.update(`unicode:${(await store.put(translationKey, translation)).sha256}\n`);
  const detectionKeys: string[] = [];
  for (const d of detections) {
    const key = datasetDetectionsKey(dataset, d.set);
    digest.update(`${key}:${(await store.put(key, d.bytes)).sha256}\n`);
    detectionKeys.push(key);
  }
  const eventId = `pages-ingested-${dataset}-${digest.digest('hex').slice(0, 16)}`;
  const pageIds = pages.map((p) => p.pageId);
  const published = await bus.publish(
    EventSubject.PagesIngested,
    {
      meta: undefined,
      dataset,
      pageIds,
      labelsKey,
      unicodeTranslationKey: translationKey,
      detectionKeys,
    },
    { id: eventId },
  );
  return {
    dataset,
    pageIds,
    labelsKey,
    unicodeTranslationKey: translationKey,
    detectionKeys,
    eventId,
    duplicate: published.duplicate,
  };
}
