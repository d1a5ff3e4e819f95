/** Flags of `kzr data ingest` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<dir>',
  flags: {
    dataset: {
      type: 'string',
      value: '<name>',
      description: 'dataset name: stored under datasets/<name>/',
      default: 'required',
    },
  },
  example: '/tmp/kzr-synth --dataset synth',
};
