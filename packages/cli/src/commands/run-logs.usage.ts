/** Flags of `kzr run logs` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<run> <phase>',
  flags: {
    model: {
      type: 'string',
      value: '<m>',
      description: 'the model, for a phase that runs one Job per model (first-train, second-train, refine)',
      default: 'required for those phases',
    },
    attempt: { type: 'string', value: '<n>', description: 'which attempt of the phase', default: 'the last' },
  },
  example: 'r-20261207-181500-1a2b split',
};
