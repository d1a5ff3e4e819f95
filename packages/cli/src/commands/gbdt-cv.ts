/**
 * `kzr gbdt cv --csv <features.csv> [--label <column>] [--param k=v ...] [--folds 5] [--seed 7]
 * [--out <dir>]`: stratified k-fold CV; writes `fold-<k>.model.txt` per fold into `--out` when
 * given (the ensemble predicts the mean of their probabilities). Prints a JSON summary.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { crossValidate, formatModel, resolveParams } from '@kzr/gbdt';

import { intFlag, parseCommand, printJson, requireFlag } from '../args.js';
import { usage } from './gbdt-cv.usage.js';
import { labelColumn, paramFlags, readTrainingTable } from './gbdt-options.js';
import { makeFolder } from './output.js';

/** Runs `kzr gbdt cv`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const csv = requireFlag(values, 'csv');
  const folds = intFlag(values, 'folds', 5, 2, 100);
  const seed = intFlag(values, 'seed', 7, 0, 2 ** 31 - 1);
  const params = resolveParams(paramFlags(values));
  const table = await readTrainingTable(csv, labelColumn(values));
  const result = crossValidate(table, params, { folds, seed, featureNames: table.featureNames });
  const files: string[] = [];
  if (typeof values.out === 'string') {
    await makeFolder(values.out, '--out');
    for (const [k, booster] of result.boosters.entries()) {
      const file = join(values.out, `fold-${k}.model.txt`);
      await writeFile(file, formatModel(booster));
      files.push(file);
    }
  }
  printJson({
    folds,
    seed,
    bestIteration: result.bestIteration,
    meanLoss: result.meanLosses[result.bestIteration - 1],
    ...(files.length > 0 ? { models: files } : {}),
  });
  return 0;
}
