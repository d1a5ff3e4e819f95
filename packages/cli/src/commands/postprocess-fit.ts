/**
 * `kzr postprocess fit --pred <results.json> --truth <train.csv> --out <dir> [--folds 5]
 * [--trials 0] [--seed 7]`: fits a false-positive filter from unfiltered recognition output and
 * its ground truth (`fitFilterSteps` of `@kzr/gbdt`, as the postprocess service's FitFilter and
 * a run's filter phase fit it): features and labels of every character, an optional TPE search,
 * a stratified k-fold CV whose fold boosters form the filter, and the keep threshold that
 * maximises F1 on the out-of-fold predictions. Writes `<dir>/fold-<k>.txt` (LightGBM text) and
 * `<dir>/filter.json` (threshold, fit summary); `kzr postprocess filter --filter <dir>/fold-1.txt
 * … --threshold <t>` applies it. Prints a JSON summary.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { fitFilterSteps, formatModel } from '@kzr/gbdt';

import { intFlag, parseCommand, printJson, requireFlag } from '../args.js';
import { usage } from './postprocess-fit.usage.js';
import { makeFolder } from './output.js';
import { readPagesWithTruth } from './postprocess-features.js';

/** Runs `kzr postprocess fit`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const predPath = requireFlag(values, 'pred');
  const truthPath = requireFlag(values, 'truth');
  const out = requireFlag(values, 'out');
  const folds = intFlag(values, 'folds', 5, 2, 20);
  const trials = intFlag(values, 'trials', 0, 0, 1000);
  const seed = intFlag(values, 'seed', 7, 0, 2 ** 31 - 1);
  const { pages, truthByPage } = await readPagesWithTruth(predPath, truthPath);
  const steps = fitFilterSteps(pages, truthByPage, { folds, trials, seed });
  let next = steps.next();
  while (next.done !== true) next = steps.next();
  const result = next.value;
  await makeFolder(out, '--out');
  const files = result.boosters.map((_, k) => join(out, `fold-${k + 1}.txt`));
  await Promise.all(result.boosters.map((b, k) => writeFile(files[k]!, formatModel(b))));
  const summary = { threshold: result.threshold, filters: files, fit: result.fit };
  await writeFile(join(out, 'filter.json'), `${JSON.stringify(summary, null, 2)}\n`);
  printJson(summary);
  return 0;
}
