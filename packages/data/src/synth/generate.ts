/**
 * The synthetic-books generator: Kaggle-format datasets with known ground truth and simulated
 * detector outputs, for tests, benchmarks and demos where the real competition data is absent.
 *
 * Output tree (the Kaggle layout plus detections and a manifest):
 *
 * ```
 * <outDir>/train.csv                 image_id,labels (U+XXXX x y w h ...), every page of every book
 * <outDir>/unicode_translation.csv   Unicode,char for the classes, in string-sort order
 * <outDir>/train_images/<page>.jpg   page scans
 * <outDir>/detections/<name>.json    one detection set per simulated detector (core's JSON schema)
 * <outDir>/synth.json                options, classes with their probabilities, books with font and style
 * ```
 *
 * Reproducible: every random choice draws from a generator derived from the seed and the
 * page, book or detector it concerns, so the same options give a byte-identical tree whatever
 * the concurrency. The tree appears at once (written beside it, then renamed), never half.
 */
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import {
  compareCodeStrings,
  createRng,
  deriveSeed,
  formatDetectionSet,
  formatTrainCsv,
  formatUnicodeTranslation,
  type DetectionSet,
  type PageLabels,
} from '@kzr/core';

import { DataArgumentError } from '../errors.js';
import { DEFAULT_DETECTORS, simulateDetections, type DetectorSimulation } from './detector.js';
import { CHARACTER_POOL, coveredCharacters, HOLDOUT_FONTS, TRAIN_FONTS, type FontFamily } from './fonts.js';
import { drawBookStyle, renderPage, type BookStyle, type PageSpec } from './page.js';

/** Options of {@link generateSyntheticDataset}. Sizes are pixels. */
export interface SyntheticDatasetOptions {
  /** Folder to create; it must not exist or be empty. */
  readonly outDir: string;
  /** Number of books in all, held-out ones included (>= 1). */
  readonly books: number;
  /** How many of the books (the last ones) use held-out fonts. @default 0 */
  readonly holdoutBooks?: number | undefined;
  /** Pages in each book (>= 1). */
  readonly pagesPerBook: number;
  /** Number of character classes (at most the characters every chosen font covers). */
  readonly classes: number;
  /** Seed of every random choice (a safe integer). */
  readonly seed: number;
  /** @default 800 */
  readonly pageWidth?: number | undefined;
  /** @default 1200 */
  readonly pageHeight?: number | undefined;
  /** Nominal glyph size (em) in pixels. @default 44 */
  readonly glyphSize?: number | undefined;
  /** Class k (0-based rank) has probability proportional to 1 / (k + 1)^s. @default 1.2 */
  readonly zipfExponent?: number | undefined;
  /** Probability that a page (other than a book's first) has no characters. @default 0.03 */
  readonly emptyPageRate?: number | undefined;
  /** @default 90 */
  readonly jpegQuality?: number | undefined;
  /** The simulated detectors, one detection set each. @default {@link DEFAULT_DETECTORS} */
  readonly detectors?: readonly DetectorSimulation[] | undefined;
  /** Font families of training books. @default {@link TRAIN_FONTS} */
  readonly trainFonts?: readonly FontFamily[] | undefined;
  /** Font families of held-out books; none may also be a training family. @default {@link HOLDOUT_FONTS} */
  readonly holdoutFonts?: readonly FontFamily[] | undefined;
  /** Pages rendered at the same time (output does not depend on it). @default 2 */
  readonly concurrency?: number | undefined;
}

/** One class: its code, character and probability of being drawn. */
export interface SyntheticClass {
  readonly code: string;
  readonly char: string;
  readonly probability: number;
}

/** One generated book. */
export interface SyntheticBook {
  /** Book id; every page id starts with it and `bookIdOf` returns it. */
  readonly bookId: string;
  /** True when the book uses a held-out font family. */
  readonly holdout: boolean;
  /** Its look: font family and weight, slant, ink bleed, blur, paper, noise. */
  readonly style: BookStyle;
  /** Its pages in order. */
  readonly pageIds: readonly string[];
}

/** What {@link generateSyntheticDataset} wrote, with the ground truth in memory. */
export interface SyntheticDataset {
  readonly outDir: string;
  /** `<outDir>/train.csv`. */
  readonly trainCsvPath: string;
  /** `<outDir>/unicode_translation.csv`. */
  readonly unicodeTranslationPath: string;
  /** `<outDir>/train_images`; page `p` is `<imagesDir>/<p>.jpg`. */
  readonly imagesDir: string;
  /** `<outDir>/synth.json`. */
  readonly manifestPath: string;
  /** Detection-set files by detector name. */
  readonly detectionPaths: ReadonlyMap<string, string>;
  /** Classes in rank order (most frequent first). */
  readonly classes: readonly SyntheticClass[];
  readonly books: readonly SyntheticBook[];
  /** Ground truth of every page, book by book, labels in reading order. */
  readonly pages: readonly PageLabels[];
  /** The simulated detector outputs, one set per detector. */
  readonly detectionSets: readonly DetectionSet[];
}

/** Defaults of the optional options. */
export const SyntheticDefaults = {
  pageWidth: 800,
  pageHeight: 1200,
  glyphSize: 44,
  zipfExponent: 1.2,
  emptyPageRate: 0.03,
  jpegQuality: 90,
  concurrency: 2,
} as const;

function int(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DataArgumentError(`options.${field}`, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function num(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new DataArgumentError(`options.${field}`, `expected a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

interface Compiled {
  outDir: string;
  books: number;
  holdoutBooks: number;
  pagesPerBook: number;
  classes: number;
  seed: number;
  pageWidth: number;
  pageHeight: number;
  glyphSize: number;
  zipfExponent: number;
  emptyPageRate: number;
  jpegQuality: number;
  detectors: readonly DetectorSimulation[];
  trainFonts: readonly FontFamily[];
  holdoutFonts: readonly FontFamily[];
  concurrency: number;
}

function compile(o: SyntheticDatasetOptions): Compiled {
  if (typeof o.outDir !== 'string' || o.outDir === '') throw new DataArgumentError('options.outDir', 'is required');
  const books = int('books', o.books, 1, 10_000);
  const holdoutBooks = int('holdoutBooks', o.holdoutBooks ?? 0, 0, books);
  const pageWidth = int('pageWidth', o.pageWidth ?? SyntheticDefaults.pageWidth, 64, 10_000);
  const pageHeight = int('pageHeight', o.pageHeight ?? SyntheticDefaults.pageHeight, 64, 10_000);
  const glyphSize = int('glyphSize', o.glyphSize ?? SyntheticDefaults.glyphSize, 8, 1000);
  // One column and one character must fit inside the margins.
  if (glyphSize * 1.8 > pageWidth * 0.86 || glyphSize * 1.4 > pageHeight * 0.88) {
    throw new DataArgumentError(
      'options.glyphSize',
      `${glyphSize} px glyphs do not fit a ${pageWidth}x${pageHeight} page (at most ${Math.floor(
        Math.min((pageWidth * 0.86) / 1.8, (pageHeight * 0.88) / 1.4),
      )})`,
    );
  }
  const detectors = o.detectors ?? DEFAULT_DETECTORS;
  const names = new Set<string>();
  detectors.forEach((d, i) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(d.name) || names.has(d.name)) {
      throw new DataArgumentError(`options.detectors[${i}].name`, `must be unique and file-safe, got "${d.name}"`);
    }
    names.add(d.name);
    num(`detectors[${i}].missRate`, d.missRate, 0, 1);
    num(`detectors[${i}].boxJitter`, d.boxJitter, 0, 1);
    num(`detectors[${i}].falsePositiveRate`, d.falsePositiveRate, 0, 10);
    num(`detectors[${i}].emptyPageFalsePositives`, d.emptyPageFalsePositives, 0, 100);
  });
  const trainFonts = o.trainFonts ?? TRAIN_FONTS;
  const holdoutFonts = o.holdoutFonts ?? HOLDOUT_FONTS;
  if (books - holdoutBooks > 0 && trainFonts.length === 0)
    throw new DataArgumentError('options.trainFonts', 'is empty');
  if (holdoutBooks > 0 && holdoutFonts.length === 0) throw new DataArgumentError('options.holdoutFonts', 'is empty');
  const shared = holdoutFonts.find((h) => trainFonts.some((t) => t.family === h.family));
  if (shared) {
    throw new DataArgumentError('options.holdoutFonts', `"${shared.family}" is also a training family`);
  }
  return {
    outDir: o.outDir,
    books,
    holdoutBooks,
    pagesPerBook: int('pagesPerBook', o.pagesPerBook, 1, 100_000),
    classes: int('classes', o.classes, 1, CHARACTER_POOL.length),
    seed: int('seed', o.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    pageWidth,
    pageHeight,
    glyphSize,
    zipfExponent: num('zipfExponent', o.zipfExponent ?? SyntheticDefaults.zipfExponent, 0, 10),
    emptyPageRate: num('emptyPageRate', o.emptyPageRate ?? SyntheticDefaults.emptyPageRate, 0, 1),
    jpegQuality: int('jpegQuality', o.jpegQuality ?? SyntheticDefaults.jpegQuality, 1, 100),
    detectors,
    trainFonts,
    holdoutFonts,
    concurrency: int('concurrency', o.concurrency ?? SyntheticDefaults.concurrency, 1, 64),
  };
}

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return ['(a file)'];
    throw err;
  }
}

/** Book `i` (0-based): `9` and 8 digits, so that `bookIdOf` finds it (`900000001`). */
function bookIdFor(index: number): string {
  return `9${String(index + 1).padStart(8, '0')}`;
}

/** Runs `tasks` with at most `limit` at a time; results in task order. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

/**
 * Generates a synthetic Kaggle-format dataset into `options.outDir`.
 *
 * @throws DataArgumentError for invalid options, an `outDir` that holds files, or more classes
 *   than the chosen fonts all cover; nothing is written then.
 */
export async function generateSyntheticDataset(options: SyntheticDatasetOptions): Promise<SyntheticDataset> {
  const o = compile(options);
  const existing = await entriesOf(o.outDir);
  if (existing !== undefined && existing.length > 0) {
    throw new DataArgumentError('options.outDir', `${o.outDir} is not empty; choose a new folder`);
  }

  // Fonts: each book gets a family (cycling through a seeded shuffle) and one of its weights.
  const fontRng = createRng(deriveSeed(o.seed, 'fonts'));
  const trainOrder = fontRng.shuffle([...o.trainFonts]);
  const holdoutOrder = fontRng.shuffle([...o.holdoutFonts]);
  const trainCount = o.books - o.holdoutBooks;
  const bookFonts = Array.from({ length: o.books }, (_, i) => {
    const holdout = i >= trainCount;
    const family = holdout ? holdoutOrder[(i - trainCount) % holdoutOrder.length]! : trainOrder[i % trainOrder.length]!;
    return { holdout, family, weight: family.weights[fontRng.int(family.weights.length)]! };
  });

  // Classes: characters every used family really draws, in a seeded order that is also the rank.
  const families = [...new Set(bookFonts.map((b) => b.family.family))];
  const coverage = await Promise.all(families.map((f) => coveredCharacters(f, CHARACTER_POOL)));
  const common = CHARACTER_POOL.filter((c) => coverage.every((set) => set.has(c)));
  if (common.length < o.classes) {
    const empty = families.filter((_, i) => coverage[i]!.size === 0);
    throw new DataArgumentError(
      'options.classes',
      empty.length > 0
        ? `font families not installed or without Japanese glyphs: ${empty.join(', ')} (see scripts/ensure-env.sh)`
        : `the fonts of this dataset (${families.join(', ')}) share only ${common.length} characters; asked for ${o.classes}`,
    );
  }
  const ranked = createRng(deriveSeed(o.seed, 'classes'))
    .shuffle([...common])
    .slice(0, o.classes);
  const weights = ranked.map((_, k) => 1 / (k + 1) ** o.zipfExponent);
  const total = weights.reduce((a, b) => a + b, 0);
  const classes: SyntheticClass[] = ranked.map((char, k) => ({
    code: `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
    char,
    probability: weights[k]! / total,
  }));
  const cumulative: number[] = [];
  let acc = 0;
  for (const c of classes) cumulative.push((acc += c.probability));
  cumulative[cumulative.length - 1] = 1;

  const books: SyntheticBook[] = bookFonts.map((font, i) => {
    const bookId = bookIdFor(i);
    return {
      bookId,
      holdout: font.holdout,
      style: drawBookStyle(font.family.family, font.weight, o.glyphSize, createRng(deriveSeed(o.seed, 'book', bookId))),
      pageIds: Array.from({ length: o.pagesPerBook }, (_, p) => `${bookId}_${String(p + 1).padStart(5, '0')}`),
    };
  });

  const target = resolve(o.outDir);
  const staging = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'train_images'), { recursive: true });
  try {
    const tasks = books.flatMap((book) => book.pageIds.map((pageId, p) => ({ book, pageId, p })));
    const codes = classes.map((c) => c.code);
    const chars = classes.map((c) => c.char);
    const pages: PageLabels[] = await pool(tasks.length, o.concurrency, async (t) => {
      const { book, pageId, p } = tasks[t]!;
      const rng = createRng(deriveSeed(o.seed, 'page', pageId));
      const spec: PageSpec = {
        width: o.pageWidth,
        height: o.pageHeight,
        glyphSize: o.glyphSize,
        style: book.style,
        codes,
        chars,
        cumulative,
        empty: p > 0 && rng.next() < o.emptyPageRate,
        jpegQuality: o.jpegQuality,
      };
      const { jpeg, labels } = await renderPage(spec, rng);
      await writeFile(join(staging, 'train_images', `${pageId}.jpg`), jpeg);
      return { pageId, labels };
    });

    const detectionSets: DetectionSet[] = o.detectors.map((sim) => ({
      version: 1,
      name: sim.name,
      pages: pages.map((page) => ({
        pageId: page.pageId,
        width: o.pageWidth,
        height: o.pageHeight,
        detections: simulateDetections(
          page.labels,
          o.pageWidth,
          o.pageHeight,
          sim,
          createRng(deriveSeed(o.seed, 'detector', sim.name, page.pageId)),
        ),
      })),
    }));

    await writeFile(join(staging, 'train.csv'), formatTrainCsv(pages));
    const byCode = [...classes].sort((a, b) => compareCodeStrings(a.code, b.code));
    await writeFile(
      join(staging, 'unicode_translation.csv'),
      formatUnicodeTranslation(new Map(byCode.map((c) => [c.code, c.char]))),
    );
    await mkdir(join(staging, 'detections'));
    for (const set of detectionSets)
      await writeFile(join(staging, 'detections', `${set.name}.json`), formatDetectionSet(set));
    const manifest = {
      version: 1,
      generator: '@kzr/data generateSyntheticDataset',
      seed: o.seed,
      options: {
        books: o.books,
        holdoutBooks: o.holdoutBooks,
        pagesPerBook: o.pagesPerBook,
        classes: o.classes,
        pageWidth: o.pageWidth,
        pageHeight: o.pageHeight,
        glyphSize: o.glyphSize,
        zipfExponent: o.zipfExponent,
        emptyPageRate: o.emptyPageRate,
        jpegQuality: o.jpegQuality,
      },
      classes,
      books,
      detectors: o.detectors,
    };
    await writeFile(join(staging, 'synth.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    if (existing !== undefined) await rmdir(target);
    await rename(staging, target);
    return {
      outDir: o.outDir,
      trainCsvPath: join(o.outDir, 'train.csv'),
      unicodeTranslationPath: join(o.outDir, 'unicode_translation.csv'),
      imagesDir: join(o.outDir, 'train_images'),
      manifestPath: join(o.outDir, 'synth.json'),
      detectionPaths: new Map(detectionSets.map((s) => [s.name, join(o.outDir, 'detections', `${s.name}.json`)])),
      classes,
      books,
      pages,
      detectionSets,
    };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
