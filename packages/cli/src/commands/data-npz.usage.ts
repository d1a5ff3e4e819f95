/** Flags of `kzr data npz` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<file.npz>',
  flags: {},
  example: '../shared/data/k49/test_images_10.npz',
};
