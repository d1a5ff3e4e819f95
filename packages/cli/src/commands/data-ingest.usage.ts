/** Flags of `kzr data ingest` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<dir>...',
  flags: {
    dataset: {
      type: 'string',
      value: '<name>',
      description: 'dataset name: stored under datasets/<name>/',
      default: 'required',
    },
    format: {
      type: 'string',
      value: 'kaggle|codh',
      description:
        'kaggle: one Kaggle-layout folder; codh: CODH book folders (<book>/images/, <book>/<book>_coordinate.csv) or folders of them',
      default: 'kaggle',
    },
  },
  example: '/tmp/kzr-synth --dataset synth',
};
