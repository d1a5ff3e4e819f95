/**
 * `kzr data synth --books <n> --pages-per-book <n> --classes <n> --seed <n> --out <dir>
 * [--holdout-books <n>] [--page-width <px>] [--page-height <px>] [--glyph-size <px>]`:
 * generates a synthetic Kaggle-format dataset (page JPEGs, train.csv, unicode_translation.csv,
 * two simulated detection sets, synth.json) and prints a summary as JSON.
 */
import { DataArgumentError, generateSyntheticDataset, SyntheticDefaults, type SyntheticDataset } from '@kzr/data';

import { intFlag, parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './data-synth.usage.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Runs the command; bad flags (or an `--out` folder that holds files) exit 2 naming the flag. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const outDir = requireFlag(values, 'out');
  for (const name of ['books', 'pages-per-book', 'classes', 'seed']) requireFlag(values, name);
  const books = intFlag(values, 'books', 0, 1, 10_000);
  let dataset: SyntheticDataset;
  try {
    dataset = await generateSyntheticDataset({
      outDir,
      books,
      holdoutBooks: intFlag(values, 'holdout-books', 0, 0, books),
      pagesPerBook: intFlag(values, 'pages-per-book', 0, 1, 100_000),
      classes: intFlag(values, 'classes', 0, 1, 10_000),
      seed: intFlag(values, 'seed', 0, -MAX_SAFE, MAX_SAFE),
      pageWidth: intFlag(values, 'page-width', SyntheticDefaults.pageWidth, 64, 10_000),
      pageHeight: intFlag(values, 'page-height', SyntheticDefaults.pageHeight, 64, 10_000),
      glyphSize: intFlag(values, 'glyph-size', SyntheticDefaults.glyphSize, 8, 1000),
    });
  } catch (err) {
    // Name the flag, not the option: options.holdoutBooks -> --holdout-books.
    if (!DataArgumentError.is(err) || !err.field.startsWith('options.')) throw err;
    const option = err.field.slice('options.'.length);
    const flag = option === 'outDir' ? 'out' : option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new UsageError(`--${flag}`, err.problem, { cause: err });
  }
  printJson({
    out: dataset.outDir,
    pages: dataset.pages.length,
    characters: dataset.pages.reduce((sum, page) => sum + page.labels.length, 0),
    classes: dataset.classes.length,
    books: dataset.books.map((book) => ({
      bookId: book.bookId,
      holdout: book.holdout,
      font: `${book.style.family} ${book.style.weight}`,
      pages: book.pageIds.length,
    })),
    files: {
      trainCsv: dataset.trainCsvPath,
      unicodeTranslation: dataset.unicodeTranslationPath,
      images: dataset.imagesDir,
      detections: Object.fromEntries(dataset.detectionPaths),
      manifest: dataset.manifestPath,
    },
  });
  return 0;
}
