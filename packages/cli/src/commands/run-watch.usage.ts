/** Flags of `kzr run watch` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<run>',
  flags: {},
  example: 'r-20261207-181500-1a2b',
};
