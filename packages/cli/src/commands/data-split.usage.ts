/** Flags of `kzr data split` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    labels: { type: 'string', value: '<train.csv>', description: 'labelled pages', default: 'required' },
    'val-book': {
      type: 'string',
      value: '<book>',
      description: 'the book held out for validation',
      default: 'required',
    },
    seed: { type: 'string', value: '<n>', description: 'split seed', default: 'required' },
    out: {
      type: 'string',
      value: '<dir>',
      description: 'folder for the crop lists and classes.json',
      default: 'required',
    },
    'crop-root': {
      type: 'string',
      value: '<dir>',
      description: 'folder the crop paths in the lists start with',
      default: 'crops',
    },
  },
  example: '--labels train.csv --val-book 200015779 --seed 0 --out split',
};
