/**
 * `kzr gbdt train --csv <features.csv> [--label <column>] [--param k=v ...] [--valid <valid.csv>]
 * --out <model.txt>`: trains a booster with LightGBM parameter names (and aliases) and writes it
 * in LightGBM's text format (truncated to the best iteration when `--valid` is given). Prints a
 * JSON summary: `validLoss` is the binary log loss on `--valid` at `bestIteration`, `iterations`
 * the trees grown, `stopped` why training ended.
 */
import { formatModel, resolveParams, train, type StopReason } from '@kzr/gbdt';

import { parseCommand, printJson, requireFlag } from '../args.js';
import { usage } from './gbdt-train.usage.js';
import { labelColumn, paramFlags, readTrainingTable } from './gbdt-options.js';
import { checkOutputPath, writeOutput } from './output.js';

/** Why training ended, for people reading the output. */
const stopMessages: Record<StopReason, string> = {
  iterations: 'num_iterations trees built',
  'early-stopping': 'early stopping: the --valid loss did not improve for early_stopping_round rounds',
  'no-split': 'no split of the next tree lowered the training loss',
};

/** Runs `kzr gbdt train`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const csv = requireFlag(values, 'csv');
  const out = requireFlag(values, 'out');
  await checkOutputPath(out, '--out');
  const params = resolveParams(paramFlags(values));
  const label = labelColumn(values);
  const table = await readTrainingTable(csv, label);
  const valid = typeof values.valid === 'string' ? await readTrainingTable(values.valid, label, 'valid') : undefined;
  const startedMs = performance.now();
  const result = train(table, params, {
    featureNames: table.featureNames,
    ...(valid ? { valid: { features: valid.features, labels: valid.labels } } : {}),
  });
  await writeOutput(out, formatModel(result.booster), '--out');
  printJson({
    out,
    rows: table.features.numRows,
    features: table.features.numFeatures,
    trees: result.booster.trees.length,
    bestIteration: result.bestIteration,
    ...(result.validLosses.length > 0 ? { validLoss: result.validLosses[result.bestIteration - 1] } : {}),
    iterations: result.validLosses.length > 0 ? result.validLosses.length : result.booster.trees.length,
    stopped: stopMessages[result.stopReason],
    trainMs: Math.round(performance.now() - startedMs),
  });
  return 0;
}
