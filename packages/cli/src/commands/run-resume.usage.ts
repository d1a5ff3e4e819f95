/** Flags of `kzr run resume` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<run>',
  flags: {
    watch: {
      type: 'boolean',
      description: "also print each phase's progress lines as its Job writes them (local Jobs)",
    },
  },
  example: 'r-20261207-181500-1a2b',
};
