/**
 * `kzr gbdt train --csv <features.csv> [--label <column>] [--param k=v ...] [--valid <valid.csv>]
 * --out <model.txt>`: trains a booster with LightGBM parameter names (and aliases) and writes it
 * in LightGBM's text format. Prints a JSON summary.
 */
import { writeFile } from 'node:fs/promises';

import { formatModel, resolveParams, train } from '@kzr/gbdt';

import { parseCommand, printJson, requireFlag } from '../args.js';
import { usage } from './gbdt-train.usage.js';
import { labelColumn, paramFlags, readTrainingTable } from './gbdt-options.js';

/** Runs `kzr gbdt train`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const csv = requireFlag(values, 'csv');
  const out = requireFlag(values, 'out');
  const params = resolveParams(paramFlags(values));
  const label = labelColumn(values);
  const table = await readTrainingTable(csv, label);
  const valid = typeof values.valid === 'string' ? await readTrainingTable(values.valid, label, 'valid') : undefined;
  const startedMs = performance.now();
  const result = train(table, params, {
    featureNames: table.featureNames,
    ...(valid ? { valid: { features: valid.features, labels: valid.labels } } : {}),
  });
  await writeFile(out, formatModel(result.booster));
  printJson({
    out,
    rows: table.features.numRows,
    features: table.features.numFeatures,
    trees: result.booster.trees.length,
    bestIteration: result.bestIteration,
    ...(result.validLosses.length > 0 ? { validLoss: result.validLosses[result.bestIteration - 1] } : {}),
    trainMs: Math.round(performance.now() - startedMs),
  });
  return 0;
}
