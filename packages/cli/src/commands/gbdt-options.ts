/** Flags shared by `kzr gbdt train|cv|search`: the training table and LightGBM parameters. */
import { parseCsvTable, parseParamAssignments, splitLabel, type FeatureMatrix } from '@kzr/gbdt';

import { readTextInput } from './read-text.js';

/** parseArgs options common to the training commands. */
export const trainingFlags = {
  csv: { type: 'string' },
  label: { type: 'string', default: 'label' },
  param: { type: 'string', multiple: true },
} as const;

/** The labelled training table named by `--csv`. */
export interface TrainingTable {
  readonly features: FeatureMatrix;
  readonly labels: Float64Array;
  readonly featureNames: string[];
}

/** Reads `--csv` and splits off the `--label` column. */
export async function readTrainingTable(path: string, label: string, flag = 'csv'): Promise<TrainingTable> {
  return splitLabel(parseCsvTable(await readTextInput(path, `--${flag}`)), label);
}

/** `--param k=v` flags as a record (LightGBM names or aliases; checked by resolveParams). */
export function paramFlags(values: Record<string, unknown>): Record<string, string> {
  const raw = values.param;
  return parseParamAssignments(Array.isArray(raw) ? raw.map(String) : []);
}
