/** Flags of `kzr data synth` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    books: { type: 'string', value: '<n>', description: 'number of books', default: 'required' },
    'pages-per-book': { type: 'string', value: '<n>', description: 'pages of each book', default: 'required' },
    classes: { type: 'string', value: '<n>', description: 'number of character classes', default: 'required' },
    seed: {
      type: 'string',
      value: '<n>',
      description: 'seed: the same seed writes a byte-identical folder',
      default: 'required',
    },
    out: { type: 'string', value: '<dir>', description: 'new (or empty) folder to write', default: 'required' },
    'holdout-books': {
      type: 'string',
      value: '<n>',
      description: 'last books drawn in held-out brush fonts',
      default: '0',
    },
    'page-width': { type: 'string', value: '<px>', description: 'page width', default: '800' },
    'page-height': { type: 'string', value: '<px>', description: 'page height', default: '1200' },
    'glyph-size': { type: 'string', value: '<px>', description: 'character size', default: '44' },
  },
  example: '--books 3 --pages-per-book 2 --classes 20 --seed 1 --out /tmp/kzr-synth',
};
