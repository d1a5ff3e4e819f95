/** Flags of `kzr run cancel` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<run>',
  flags: {
    reason: { type: 'string', value: '<text>', description: 'why, recorded with the request', default: 'none' },
  },
  example: 'r-20261207-181500-1a2b',
};
