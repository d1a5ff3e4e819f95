/** Flags of `kzr model promote` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    'model-set': { type: 'string', value: '<set>', description: 'the model set', default: 'required' },
    version: { type: 'string', value: '<v>', description: 'the published version to serve', default: 'required' },
  },
  example: '--model-set kuzushiji --version v1',
};
