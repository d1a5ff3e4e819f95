/** Flags of `kzr data npz` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<file.npz>',
  flags: {
    'max-bytes': {
      type: 'string',
      value: '<n>',
      description: 'most bytes the arrays may decompress to, checked before inflating',
      default: '1073741824',
    },
  },
  example: '../shared/data/k49/test_images_10.npz',
};
