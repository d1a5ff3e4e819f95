/** Flags shared by `kzr gbdt train|cv|search`: the training table and LightGBM parameters. */
import { KzrError } from '@kzr/core';
import {
  type Booster,
  parseCsvTable,
  parseModel,
  parseParamAssignments,
  splitLabel,
  type FeatureMatrix,
} from '@kzr/gbdt';

import { type FlagUsage, UsageError } from '../args.js';
import { readTextInput } from './read-text.js';

/** Flags common to the training commands. */
export const trainingFlags: Readonly<Record<string, FlagUsage>> = {
  csv: {
    type: 'string',
    value: '<features.csv>',
    description: 'training table with a header row',
    default: 'required',
  },
  label: { type: 'string', value: '<column>', description: 'label column (0 or 1)', default: 'label' },
  param: {
    type: 'string',
    multiple: true,
    value: '<k=v>',
    description: 'LightGBM parameter by name or alias, e.g. num_leaves=31',
    default: "LightGBM's defaults",
  },
};

/** The `--label` column. */
export function labelColumn(values: Record<string, unknown>): string {
  return typeof values.label === 'string' ? values.label : 'label';
}

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

/** Reads the LightGBM model.txt `path` named by `field`: one read, and a malformed model is a {@link UsageError} naming the file. */
export async function readModelFile(path: string, field: string): Promise<Booster> {
  const text = await readTextInput(path, field);
  try {
    return parseModel(text);
  } catch (err) {
    if (err instanceof KzrError) throw new UsageError(field, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
