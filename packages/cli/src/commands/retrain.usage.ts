/** Flags of `kzr retrain` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    dataset: {
      type: 'string',
      value: '<name>',
      description: 'the stored dataset to train on (datasets/<name>/ in the Store the trainer reads)',
      default: 'required',
    },
    preset: {
      type: 'string',
      value: '<name>',
      description: 'a preset of configs/runs/: smoke, default, upstream',
      default: 'default unless --spec',
    },
    spec: {
      type: 'string',
      value: '<file>',
      description: 'a run spec file (configs/runs/README.md), sent whole with its model configurations inline',
      default: 'none',
    },
    'request-id': {
      type: 'string',
      value: '<id>',
      description:
        'id of the request and name of its run (at most 63 letters, digits, ., _ or -); the same id twice gives one run',
      default: 'r-<yyyymmdd>-<hhmmss>-<4 hex>',
    },
  },
  example: '--dataset synth-4x2-h1-c10-s16 --preset smoke',
};
