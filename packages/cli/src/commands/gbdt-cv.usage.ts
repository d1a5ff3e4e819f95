/** Flags of `kzr gbdt cv` (help and parser). */
import type { CommandUsage } from '../args.js';
import { trainingFlags } from './gbdt-options.js';

export const usage: CommandUsage = {
  flags: {
    ...trainingFlags,
    folds: { type: 'string', value: '<k>', description: 'number of folds', default: '5' },
    seed: { type: 'string', value: '<n>', description: 'fold assignment seed', default: '7' },
    out: {
      type: 'string',
      value: '<dir>',
      description: 'folder for fold-<k>.model.txt',
      default: 'none: models are not written',
    },
  },
  example: '--csv features.csv --folds 5 --out folds',
};
