/** Flags of `kzr gbdt search` (help and parser). */
import type { CommandUsage } from '../args.js';
import { trainingFlags } from './gbdt-options.js';

export const usage: CommandUsage = {
  flags: {
    ...trainingFlags,
    folds: { type: 'string', value: '<k>', description: "folds of each trial's CV", default: '3' },
    trials: { type: 'string', value: '<n>', description: 'number of trials', default: '50' },
    seed: { type: 'string', value: '<n>', description: 'sampler and fold seed', default: '0' },
    rounds: { type: 'string', value: '<n>', description: 'boosting rounds per trial', default: '200' },
  },
  example: '--csv features.csv --trials 50',
};
