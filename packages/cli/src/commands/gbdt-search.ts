/**
 * `kzr gbdt search --csv <features.csv> [--label <column>] [--param k=v ...] [--folds 3]
 * [--trials 50] [--seed 0] [--rounds 200]`: TPE search with median pruning over the upstream
 * space; `--param` fixes the other parameters. Prints the best parameters as JSON.
 */
import { resolveParams, searchParams, TrialState } from '@kzr/gbdt';

import { intFlag, parseCommand, printJson, requireFlag } from '../args.js';
import { usage } from './gbdt-search.usage.js';
import { labelColumn, paramFlags, readTrainingTable } from './gbdt-options.js';

/** Runs `kzr gbdt search`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const csv = requireFlag(values, 'csv');
  const folds = intFlag(values, 'folds', 3, 2, 100);
  const trials = intFlag(values, 'trials', 50, 1, 100000);
  const seed = intFlag(values, 'seed', 0, 0, 2 ** 31 - 1);
  const rounds = intFlag(values, 'rounds', 200, 1, 100000);
  const baseParams = paramFlags(values);
  resolveParams(baseParams);
  const table = await readTrainingTable(csv, labelColumn(values));
  const result = searchParams(table, {
    folds,
    trials,
    seed,
    numBoostRound: rounds,
    baseParams,
    featureNames: table.featureNames,
  });
  printJson({
    bestParams: result.bestParams,
    bestValue: result.best.value,
    bestTrial: result.best.number,
    trials: result.trials.length,
    pruned: result.trials.filter((t) => t.state === TrialState.Pruned).length,
  });
  return 0;
}
