/** Flags of `kzr run list` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {},
  example: '',
};
