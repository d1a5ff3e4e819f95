/** Flags of `kzr postprocess fit` (help and parser). */
import type { CommandUsage } from '../args.js';
import { recognitionWithTruthFlags } from './postprocess-features.usage.js';

export const usage: CommandUsage = {
  flags: {
    ...recognitionWithTruthFlags,
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
