/**
 * The book-title split (spec §1.3) and the train-time sampling (spec §2.4). One whole book is
 * held out as validation; per class, a class missing from one side borrows crops from the other;
 * rare classes are oversampled into the lists; large classes are cut to 2 000 rows per epoch.
 * Every random choice is seeded (upstream seeds nothing).
 */
import { bookIdOf, compareCodeStrings } from './books.js';
import type { CropEntry } from './crop-list.js';
import { InvalidArgumentError } from './errors.js';
import type { PageLabels } from './kaggle-csv.js';
import { createRng, deriveSeed } from './rng.js';

/** The two upstream splits by their held-out book: A (models 01-03) and B (models 04, 05). */
export const SplitBook = {
  /** Split A: val book 200015779. */
  A: '200015779',
  /** Split B: val book 200003076. */
  B: '200003076',
} as const;
export type SplitBook = (typeof SplitBook)[keyof typeof SplitBook];

/** Sampling constants of the upstream pipeline. */
export const SamplingDefaults = {
  /** Train classes with fewer rows get floor(100 / c) extra copies. */
  trainOversampleBelow: 100,
  /** Val classes with fewer rows get floor(20 / c) extra copies. */
  valOversampleBelow: 20,
  /** Crops moved to the empty side of a class, when the other side has at least 210. */
  moveCount: 20,
  /** Rows per class kept each epoch by undersampling. */
  undersampleMax: 2000,
} as const;

/** Options of {@link splitByBook}. */
export interface BookSplitOptions {
  /** The held-out book, for example {@link SplitBook.A}. */
  valBook: string;
  /** Seed of the random moves. */
  seed: number;
  /**
   * The book of a crop. Defaults to the book of the page named by the crop's file name
   * (`<pageId>_<k>.<ext>`, as imaging's `cropFileName` names it).
   */
  bookOf?: (crop: CropEntry, index: number) => string | undefined;
}

/** What the per-class rules did to one class. */
export const ClassRule = {
  /** The class had crops on both sides; nothing changed. */
  Kept: 'kept',
  /** No val crop and >= 210 train crops: 20 train crops moved to val. */
  MovedToVal: 'moved-to-val',
  /** No val crop and < 210 train crops: all crops copied into val too. */
  CopiedToVal: 'copied-to-val',
  /** No train crop and >= 210 val crops: 20 val crops moved to train. */
  MovedToTrain: 'moved-to-train',
  /** No train crop and < 210 val crops: all crops copied into train too. */
  CopiedToTrain: 'copied-to-train',
} as const;
export type ClassRule = (typeof ClassRule)[keyof typeof ClassRule];

/** The result of {@link splitByBook}. */
export interface BookSplit {
  valBook: string;
  /** Train rows, oversampled (class c < 100 gets floor(100 / c) extra copies). */
  train: CropEntry[];
  /** Val rows, oversampled (class c < 20 gets floor(20 / c) extra copies). */
  val: CropEntry[];
  /**
   * The raw held-out crops: val crops that are not also in train, each once. Accuracy is
   * measured on these (upstream measured on the duplicated, oversampled val list).
   */
  heldOut: CropEntry[];
  /** The rule applied to each class, classes in string-sort order. */
  rules: Record<string, ClassRule>;
}

/** The page id in a crop path `<dir>/<pageId>_<k>.<ext>`, or undefined. */
export function pageIdOfCropPath(path: string): string | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return /^(.+)_\d+\.[A-Za-z0-9]+$/.exec(base)?.[1];
}

/**
 * The crop list of labelled pages, as upstream's `train_characters.csv`: one row per character,
 * pages in order, characters in label order, each path `pathOf(code, pageId, k)` (k = the
 * character's index in its page's labels; the caller names the files as they were written,
 * with imaging's `cropFileName`).
 */
export function cropsFromLabels(
  pages: readonly PageLabels[],
  pathOf: (code: string, pageId: string, index: number) => string,
): CropEntry[] {
  return pages.flatMap((page) =>
    page.labels.map((label, k) => ({ code: label.code, path: pathOf(label.code, page.pageId, k) })),
  );
}

function groupByCode<T extends { code: string }>(rows: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(row.code);
    if (list === undefined) groups.set(row.code, [row]);
    else list.push(row);
  }
  return new Map([...groups].sort(([a], [b]) => compareCodeStrings(a, b)));
}

/**
 * Oversampling as upstream writes it into the CSVs: a class with c < `below` rows gets
 * floor(below / c) extra full copies, c x (1 + floor(below / c)) rows in all. Output is grouped
 * by class in string-sort order; within a class, the rows in input order, then the copies.
 */
export function oversample<T extends { code: string }>(rows: readonly T[], below: number): T[] {
  if (!Number.isInteger(below) || below < 0)
    throw new InvalidArgumentError('below', `expected an integer >= 0, got ${below}`);
  const out: T[] = [];
  for (const group of groupByCode(rows).values()) {
    const copies = group.length < below ? 1 + Math.floor(below / group.length) : 1;
    for (let c = 0; c < copies; c++) out.push(...group);
  }
  return out;
}

/** Options of {@link undersampleForEpoch}. */
export interface UndersampleOptions {
  /** Rows kept per class. @default 2000 */
  maxPerClass?: number;
  /** The run's seed. */
  seed: number;
  /** The epoch (0-based); each epoch draws afresh. */
  epoch: number;
}

/**
 * Train-time undersampling (spec §2.4): every class with more than `maxPerClass` rows (counting
 * oversampled duplicates and pseudo crops) is cut to exactly `maxPerClass` random rows, drawn
 * anew for each epoch from (seed, epoch). Rows keep their input order.
 */
export function undersampleForEpoch<T extends { code: string }>(rows: readonly T[], options: UndersampleOptions): T[] {
  const max = options.maxPerClass ?? SamplingDefaults.undersampleMax;
  if (!Number.isInteger(max) || max < 1)
    throw new InvalidArgumentError('maxPerClass', `expected an integer >= 1, got ${max}`);
  if (!Number.isInteger(options.epoch) || options.epoch < 0) {
    throw new InvalidArgumentError('epoch', `expected an integer >= 0, got ${options.epoch}`);
  }
  const rng = createRng(deriveSeed(options.seed, 'undersample', options.epoch));
  const positions = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const list = positions.get(row.code);
    if (list === undefined) positions.set(row.code, [i]);
    else list.push(i);
  });
  const keep = new Uint8Array(rows.length);
  for (const code of [...positions.keys()].sort(compareCodeStrings)) {
    const list = positions.get(code)!;
    if (list.length <= max) for (const i of list) keep[i] = 1;
    else for (const pick of rng.sampleIndices(list.length, max)) keep[list[pick]!] = 1;
  }
  return rows.filter((_, i) => keep[i] === 1);
}

function defaultBookOf(crop: CropEntry): string | undefined {
  const pageId = pageIdOfCropPath(crop.path);
  return pageId === undefined ? undefined : bookIdOf(pageId);
}

function pick<T>(rows: readonly T[], indices: readonly number[]): { picked: T[]; rest: T[] } {
  const chosen = new Set(indices);
  return { picked: rows.filter((_, i) => chosen.has(i)), rest: rows.filter((_, i) => !chosen.has(i)) };
}

/**
 * The book-title split of spec §1.3, seeded. A crop is val iff its book is `valBook` (upstream
 * tested whether the path contains the book id as a substring; kzr compares book ids). Then, per
 * class in string-sort order:
 * - no val crop: if floor(0.1 x n_train) > 20 move 20 random train crops to val, else copy all
 *   of the class's crops into val too;
 * - no train crop: if floor(0.1 x n_val) > 20 move 20 random val crops to train, else copy all
 *   into train too.
 * Then train is oversampled below 100 and val below 20 ({@link oversample}).
 */
export function splitByBook(crops: readonly CropEntry[], options: BookSplitOptions): BookSplit {
  const { valBook } = options;
  if (valBook === '') throw new InvalidArgumentError('valBook', 'is empty');
  const bookOf = options.bookOf ?? defaultBookOf;
  const rng = createRng(deriveSeed(options.seed, 'book-split', valBook));
  const trainByCode = new Map<string, CropEntry[]>();
  const valByCode = new Map<string, CropEntry[]>();
  let valCount = 0;
  crops.forEach((crop, i) => {
    const book = bookOf(crop, i);
    if (book === undefined) throw new InvalidArgumentError(`crops[${i}].path`, `no book in "${crop.path}"`);
    const side = book === valBook ? valByCode : trainByCode;
    if (book === valBook) valCount++;
    const list = side.get(crop.code);
    if (list === undefined) side.set(crop.code, [crop]);
    else list.push(crop);
  });
  if (valCount === 0) throw new InvalidArgumentError('valBook', `no crop belongs to book "${valBook}"`);

  const codes = [...new Set([...trainByCode.keys(), ...valByCode.keys()])].sort(compareCodeStrings);
  const train: CropEntry[] = [];
  const val: CropEntry[] = [];
  const heldOut: CropEntry[] = [];
  const rules: Record<string, ClassRule> = {};
  for (const code of codes) {
    let t = trainByCode.get(code) ?? [];
    let v = valByCode.get(code) ?? [];
    let rule: ClassRule = ClassRule.Kept;
    let shared = false;
    // The side without crops is filled from the other one: moved when there are enough, else copied.
    const fill = (from: CropEntry[]): { filled: CropEntry[]; left: CropEntry[]; moved: boolean } => {
      if (Math.floor(0.1 * from.length) <= 20) return { filled: from, left: from, moved: false };
      const { picked, rest } = pick(from, rng.sampleIndices(from.length, SamplingDefaults.moveCount));
      return { filled: picked, left: rest, moved: true };
    };
    if (v.length === 0) {
      const { filled, left, moved } = fill(t);
      [v, t, shared] = [filled, left, !moved];
      rule = moved ? ClassRule.MovedToVal : ClassRule.CopiedToVal;
    } else if (t.length === 0) {
      const { filled, left, moved } = fill(v);
      [t, v, shared] = [filled, left, !moved];
      rule = moved ? ClassRule.MovedToTrain : ClassRule.CopiedToTrain;
    }
    rules[code] = rule;
    train.push(...t);
    val.push(...v);
    if (!shared) heldOut.push(...v);
  }
  return {
    valBook,
    train: oversample(train, SamplingDefaults.trainOversampleBelow),
    val: oversample(val, SamplingDefaults.valOversampleBelow),
    heldOut,
    rules,
  };
}
