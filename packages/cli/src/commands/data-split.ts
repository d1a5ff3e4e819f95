/**
 * `kzr data split --labels <train.csv> --val-book <book> --seed <n> --out <dir>`: the
 * book-title split of spec §1.3 over the crops of labelled pages. Writes, in `<dir>`:
 * `train_<book>.csv` and `val_<book>.csv` (crop lists, oversampled as upstream),
 * `heldout_<book>.csv` (the raw held-out crops accuracy is measured on) and `classes.json`
 * (the class map: codes in string-sort order). Crop paths are `<crop-root>/<name>` with the
 * name `kzr preprocess crops` writes (imaging's `cropFileName`: `U+XXXX/<pageId>_<k>.png`);
 * `--crop-root` (default `crops`) is the crop folder as seen from where the lists are read.
 * Prints a JSON summary.
 * Files appear complete or not at all (temporary name, then rename).
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  buildClassMap,
  ClassRule,
  cropsFromLabels,
  formatCropList,
  InvalidArgumentError,
  parseTrainCsv,
  splitByBook,
} from '@kzr/core';
// The light subpath: the package's index loads sharp, which a split does not need.
import { cropFileName } from '@kzr/imaging/crop-names';

import { intFlag, parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './data-split.usage.js';
import { makeFolder } from './output.js';
import { readTextInput } from './read-text.js';

async function writeAll(dir: string, files: ReadonlyArray<readonly [string, string]>): Promise<void> {
  const temps = files.map(([name]) => join(dir, `.${name}.${process.pid}.tmp`));
  try {
    await Promise.all(files.map(([, text], i) => writeFile(temps[i]!, text)));
    for (const [i, [name]] of files.entries()) await rename(temps[i]!, join(dir, name));
  } catch (err) {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    throw err;
  }
}

/** Runs the command; bad flags, a book without crops or a malformed CSV exit 2 before writing. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const labelsFile = requireFlag(values, 'labels');
  const valBook = requireFlag(values, 'val-book');
  if (!/^[A-Za-z0-9]+$/.test(valBook))
    throw new UsageError('--val-book', `expected a book id such as 200015779, got "${valBook}"`);
  if (values['seed'] === undefined) throw new UsageError('--seed', 'is required');
  const seed = intFlag(values, 'seed', 0, 0, Number.MAX_SAFE_INTEGER);
  const out = requireFlag(values, 'out');
  const cropRoot = typeof values['crop-root'] === 'string' ? values['crop-root'] : 'crops';
  if (cropRoot === '' || /[,\n"]/.test(cropRoot))
    throw new UsageError('--crop-root', `cannot be used in a crop list: "${cropRoot}"`);

  const pages = parseTrainCsv(await readTextInput(labelsFile, '--labels'), labelsFile);
  const crops = cropsFromLabels(pages, (code, pageId, k) => `${cropRoot}/${cropFileName(code, pageId, k)}`);
  let split;
  try {
    split = splitByBook(crops, { valBook, seed });
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    // A book without crops is a bad --val-book; a crop without a book, a bad --labels file.
    if (err.field === 'valBook') throw new UsageError('--val-book', err.problem, { cause: err });
    throw new UsageError('--labels', err.message, { cause: err });
  }
  const classMap = buildClassMap(crops.map((c) => c.code));
  const names = {
    train: `train_${valBook}.csv`,
    val: `val_${valBook}.csv`,
    heldOut: `heldout_${valBook}.csv`,
    classes: 'classes.json',
  };
  await makeFolder(out, '--out');
  await writeAll(out, [
    [names.train, formatCropList(split.train)],
    [names.val, formatCropList(split.val)],
    [names.heldOut, formatCropList(split.heldOut)],
    [names.classes, `${JSON.stringify({ codes: classMap.codes })}\n`],
  ]);
  const rules = Object.fromEntries(Object.values(ClassRule).map((rule) => [rule, 0]));
  for (const rule of Object.values(split.rules)) rules[rule]!++;
  printJson({
    valBook,
    seed,
    classes: classMap.size,
    rows: { train: split.train.length, val: split.val.length, heldOut: split.heldOut.length },
    rules,
    files: Object.fromEntries(Object.entries(names).map(([k, name]) => [k, join(out, name)])),
  });
  return 0;
}
