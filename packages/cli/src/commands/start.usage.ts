/** Flags of `kzr start` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {},
  example: '',
};
