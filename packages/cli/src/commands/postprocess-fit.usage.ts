/** Flags of `kzr postprocess fit` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
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
    out: {
      type: 'string',
      value: '<dir>',
      description: 'where fold-<k>.txt and filter.json are written',
      default: 'required',
    },
    folds: { type: 'string', value: '<k>', description: 'cross-validation folds (2-20)', default: '5' },
    trials: {
      type: 'string',
      value: '<n>',
      description: 'TPE search trials; 0 uses the upstream parameters',
      default: '0',
    },
    seed: { type: 'string', value: '<n>', description: 'seed of the folds and the search', default: '7' },
  },
  example: '--pred unfiltered.json --truth train.csv --out filter/',
};
