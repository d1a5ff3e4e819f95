/** Flags of `kzr phase run` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    run: {
      type: 'string',
      value: '<run>',
      description: 'the run (runs/<run>/run.json in the Store)',
      default: 'required',
    },
    phase: {
      type: 'string',
      value: '<phase>',
      description:
        'preprocess, split, first-train, first-infer, first-filter, pseudo-label, second-train, refine, final-infer or publish',
      default: 'required',
    },
    model: {
      type: 'string',
      value: '<model>',
      description: 'the model of first-train, second-train and refine (a name of the spec models)',
      default: 'required for those phases',
    },
    attempt: {
      type: 'string',
      value: '<n>',
      description: 'the attempt the run records (names its failure report)',
      default: '1',
    },
    resume: { type: 'boolean', description: 'resume after the checkpoint an earlier attempt stored' },
  },
  example: '--run r-20261207-181500-1a2b --phase first-train --model tiny-resnet-gray32',
};
