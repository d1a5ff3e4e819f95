/** Flags of `kzr model list` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    'model-set': { type: 'string', value: '<set>', description: 'only this model set', default: 'every set' },
  },
  example: '--model-set kuzushiji',
};
