/**
 * `kzr gbdt predict --model <model.txt> --csv <x.csv> [--label <column>]`: prints one
 * probability per row, no header, each in the shortest form that round-trips.
 */
import { featuresForModel, parseCsvTable, predict } from '@kzr/gbdt';

import { parseCommand, requireFlag } from '../args.js';
import { usage } from './gbdt-predict.usage.js';
import { labelColumn, readModelFile } from './gbdt-options.js';
import { readTextInput } from './read-text.js';

/** Runs `kzr gbdt predict`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const modelPath = requireFlag(values, 'model');
  const csvPath = requireFlag(values, 'csv');
  const booster = await readModelFile(modelPath, '--model');
  const table = parseCsvTable(await readTextInput(csvPath, '--csv'));
  const probabilities = predict(booster, featuresForModel(table, booster, labelColumn(values)));
  process.stdout.write(probabilities.length === 0 ? '' : `${Array.from(probabilities, String).join('\n')}\n`);
  return 0;
}
