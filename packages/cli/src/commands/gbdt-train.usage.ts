/** Flags of `kzr gbdt train` (help and parser). */
import type { CommandUsage } from '../args.js';
import { trainingFlags } from './gbdt-options.js';

export const usage: CommandUsage = {
  flags: {
    ...trainingFlags,
    valid: {
      type: 'string',
      value: '<valid.csv>',
      description: 'validation table: early stopping on its loss, validLoss in the output',
      default: 'none: no early stopping',
    },
    out: { type: 'string', value: '<model.txt>', description: 'where to write the model', default: 'required' },
  },
  example: '--csv features.csv --param num_boost_round=200 --valid valid.csv --out model.txt',
};
