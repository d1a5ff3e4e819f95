/** Flags of `kzr postprocess features` (help and parser). */
import type { CommandUsage } from '../args.js';

/** The inputs `kzr postprocess features` and `fit` share: recognition output and its truth. */
export const recognitionWithTruthFlags: CommandUsage['flags'] = {
  pred: {
    type: 'string',
    value: '<results.json>',
    description: 'unfiltered recognition output (kzr recognize --unfiltered)',
    default: 'required',
  },
  truth: {
    type: 'string',
    value: '<train.csv>',
    description: 'ground truth in Kaggle train.csv form',
    default: 'required',
  },
};

export const usage: CommandUsage = {
  flags: {
    ...recognitionWithTruthFlags,
    out: {
      type: 'string',
      value: '<features.csv>',
      description: 'where the feature table is written',
      default: 'required',
    },
  },
  example: '--pred unfiltered.json --truth train.csv --out features.csv',
};
