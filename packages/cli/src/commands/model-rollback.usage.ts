/** Flags of `kzr model rollback` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    'model-set': { type: 'string', value: '<set>', description: 'the model set', default: 'required' },
  },
  example: '--model-set kuzushiji',
};
