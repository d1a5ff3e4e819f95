/**
 * Ingest of a dataset into the Store (DESIGN.md, Artifacts), from a Kaggle-layout folder
 * (`train_images/` and `test_images/` pages or images directly in the folder, `train.csv`,
 * `unicode_translation.csv`, `detections/*.json`) or from CODH book folders
 * (`<book>/images/*.jpg`, `<book>/<book>_coordinate.csv`): stored in one form under
 * `datasets/<dataset>/`, then one `kzr.pages.ingested` event. Everything is validated before
 * the first object is written.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

import {
  codhToPageLabels,
  formatTrainCsv,
  parseCodhCoordinates,
  parseDetectionSet,
  parseTrainCsv,
  type PageLabels,
} from '@kzr/core';
import { imageEndProblem, imageTailBytes, sniffImageFormat } from '@kzr/imaging';
import {
  checkSegment,
  datasetDetectionsKey,
  datasetLabelsKey,
  datasetPageKey,
  datasetPrefix,
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

/** Where an ingest stores and publishes. */
interface IngestTarget {
  readonly dataset: string;
  readonly store: Store;
  readonly bus: Bus;
}

/** Options of {@link ingestKaggleDir}. */
export interface IngestOptions extends IngestTarget {
  readonly sourceDir: string;
}

/** Options of {@link ingestCodhBooks}. */
export interface CodhIngestOptions extends IngestTarget {
  /** CODH book folders, or folders of them (every subfolder holding `<name>_coordinate.csv`). */
  readonly sourceDirs: readonly string[];
}

interface SourcePage {
  readonly pageId: string;
  readonly path: string;
  readonly ext: string;
}

/** A dataset read and checked, not yet stored: the one form both layouts become. */
interface DatasetSource {
  readonly pages: readonly SourcePage[];
  /** train.csv bytes, when the pages are labelled. */
  readonly labels: Buffer | undefined;
  readonly translation: Buffer | undefined;
  readonly detections: ReadonlyArray<{ readonly set: string; readonly bytes: Buffer }>;
}

const imageExtensions = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp']);
async function listImages(dir: string): Promise<SourcePage[]> {
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

/**
 * Throws a ValidationError naming `path` unless it is a regular file (following links): a folder
 * named `x.jpg`, a dangling link or a FIFO (whose open would wait for a writer for ever).
 */
async function checkRegularFile(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new ValidationError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!info.isFile()) throw new ValidationError(path, 'not a regular file');
  return info.size;
}

/** A file's bytes; a file that cannot be read is a ValidationError naming it. */
async function readSourceFile(path: string): Promise<Buffer> {
  await checkRegularFile(path);
  try {
    return await readFile(path);
  } catch (err) {
    throw new ValidationError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** {@link readSourceFile}, or undefined when nothing of that name exists. */
async function readOptional(path: string): Promise<Buffer | undefined> {
  const exists = await lstat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
  return exists ? readSourceFile(path) : undefined;
}

/** Page ids become key segments (and book ids) and must be unique: checked before anything is stored. */
function checkPageIds(pages: readonly SourcePage[], field: string): Set<string> {
  const seen = new Set<string>();
  for (const p of pages) {
    checkSegment(p.path, p.pageId);
    if (seen.has(p.pageId)) throw new ValidationError(field, `page ${p.pageId} appears twice`);
    seen.add(p.pageId);
  }
  return seen;
}

async function readKaggleDir(sourceDir: string): Promise<DatasetSource> {
  const pages = [
    ...(await listImages(join(sourceDir, 'train_images'))),
    ...(await listImages(join(sourceDir, 'test_images'))),
    ...(await listImages(join(sourceDir, 'images'))),
    ...(await listImages(sourceDir)),
  ];
  if (pages.length === 0) throw new ValidationError('<dir>', `no page images found in ${sourceDir}`);
  const seen = checkPageIds(pages, '<dir>');
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
    const bytes = await readSourceFile(join(sourceDir, 'detections', name));
    parseDetectionSet(bytes.toString('utf8'), `detections/${name}`);
    detections.push({ set, bytes });
  }
  return { pages, labels: trainCsv, translation, detections };
}

/** The folders holding `<name>_coordinate.csv` among `dir` and its subfolders. */
async function codhBookDirs(dir: string): Promise<string[]> {
  const isBook = async (d: string): Promise<boolean> =>
    (await stat(join(d, `${basename(d)}_coordinate.csv`)).catch(() => undefined))?.isFile() === true;
  if (await isBook(dir)) return [dir];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
    throw new ValidationError('<dir>', `cannot read ${dir}`);
  });
  const books: string[] = [];
  for (const e of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    if (await isBook(join(dir, e.name))) books.push(join(dir, e.name));
  }
  if (books.length === 0)
    throw new ValidationError(
      '<dir>',
      `${dir} is no CODH book folder (no ${basename(dir)}_coordinate.csv) and holds none`,
    );
  return books;
}

/**
 * CODH books as a dataset: each book's images, its coordinate file's characters as train.csv
 * labels (pages in coordinate-file order, then unlabelled images with no characters), no
 * translation table and no detection sets.
 */
async function readCodhBooks(sourceDirs: readonly string[]): Promise<DatasetSource> {
  const pages: SourcePage[] = [];
  const labels: PageLabels[] = [];
  for (const dir of sourceDirs) {
    for (const book of await codhBookDirs(dir)) {
      const file = join(book, `${basename(book)}_coordinate.csv`);
      const images = await listImages(join(book, 'images'));
      if (images.length === 0) throw new ValidationError('<dir>', `no page images in ${join(book, 'images')}`);
      const bookLabels = codhToPageLabels(parseCodhCoordinates((await readSourceFile(file)).toString('utf8'), file));
      const imaged = new Set(images.map((p) => p.pageId));
      const missing = bookLabels.find((p) => !imaged.has(p.pageId));
      if (missing) throw new ValidationError(file, `characters of page ${missing.pageId}, which has no image`);
      const labelled = new Set(bookLabels.map((p) => p.pageId));
      pages.push(...images);
      labels.push(
        ...bookLabels,
        ...images.filter((p) => !labelled.has(p.pageId)).map((p) => ({ pageId: p.pageId, labels: [] })),
      );
    }
  }
  checkPageIds(pages, '<dir>');
  return { pages, labels: Buffer.from(formatTrainCsv(labels)), translation: undefined, detections: [] };
}

/** Throws a ValidationError naming `path` unless it is a whole JPEG, PNG, TIFF or WebP file. */
async function checkPageFile(path: string): Promise<void> {
  const size = await checkRegularFile(path);
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    const format = sniffImageFormat(head.subarray(0, bytesRead));
    if (format === undefined) throw new ValidationError(path, 'not a JPEG, PNG, TIFF or WebP image');
    const tail = Buffer.alloc(Math.min(imageTailBytes, size));
    await handle.read(tail, 0, tail.length, size - tail.length);
    const problem = imageEndProblem(format, head.subarray(0, bytesRead), tail, size);
    if (problem !== undefined) throw new ValidationError(path, problem);
  } finally {
    await handle.close();
  }
}

/** Checks every image, stores the dataset and publishes `kzr.pages.ingested`. */
async function storeDataset(source: DatasetSource, target: IngestTarget): Promise<IngestResult> {
  const { dataset, store, bus } = target;
  const { pages, labels: trainCsv, translation, detections } = source;
  // Validate every image (a regular file, its format by its header, whole by its end) before
  // writing anything; pages are then read one at a time, so a full dataset never sits in memory.
  for (const p of pages) await checkPageFile(p.path);

  // The event, published last, is what makes the dataset visible; a failure while storing
  // removes the objects this ingest added (those that were there before stay).
  const before = new Set((await store.list(datasetPrefix(dataset))).map((o) => o.key));
  const added: string[] = [];
  const put = async (key: string, body: Buffer): Promise<string> => {
    const result = await store.put(key, body);
    if (!before.has(key)) added.push(key);
    return result.sha256;
  };
  const digest = createHash('sha256');
  const labelsKey = trainCsv === undefined ? '' : datasetLabelsKey(dataset);
  const translationKey = translation === undefined ? '' : datasetUnicodeTranslationKey(dataset);
  const detectionKeys: string[] = [];
  try {
    for (const p of pages) {
      const ext = p.ext === '.jpeg' ? '.jpg' : p.ext === '.tif' ? '.tiff' : p.ext;
      const key = datasetPageKey(dataset, p.pageId, ext);
      digest.update(`${key}:${await put(key, await readSourceFile(p.path))}\n`);
    }
    if (trainCsv !== undefined) digest.update(`labels:${await put(labelsKey, trainCsv)}\n`);
    if (translation !== undefined) digest.update(`unicode:${await put(translationKey, translation)}\n`);
    for (const d of detections) {
      const key = datasetDetectionsKey(dataset, d.set);
      digest.update(`${key}:${await put(key, d.bytes)}\n`);
      detectionKeys.push(key);
    }
  } catch (err) {
    await Promise.allSettled(added.map((key) => store.delete(key)));
    throw err;
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

/** Stores a Kaggle-layout folder and publishes `kzr.pages.ingested`. */
export async function ingestKaggleDir(options: IngestOptions): Promise<IngestResult> {
  checkSegment('--dataset', options.dataset);
  return storeDataset(await readKaggleDir(options.sourceDir), options);
}

/**
 * Stores CODH book folders in the same form as a Kaggle folder (labels as `labels.csv`; no
 * translation table, no detection sets) and publishes `kzr.pages.ingested`.
 */
export async function ingestCodhBooks(options: CodhIngestOptions): Promise<IngestResult> {
  checkSegment('--dataset', options.dataset);
  if (options.sourceDirs.length === 0) throw new ValidationError('<dir>', 'expected at least one CODH book folder');
  return storeDataset(await readCodhBooks(options.sourceDirs), options);
}
