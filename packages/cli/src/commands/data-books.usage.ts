/** Flags of `kzr data books` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<page-id-list>',
  flags: {},
  example: '../shared/data/kaggle/lists/train_images.list',
};
