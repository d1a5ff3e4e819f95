/** Flags of `kzr score` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    truth: { type: 'string', value: '<train.csv>', description: 'labelled pages', default: 'required' },
    pred: {
      type: 'string',
      value: '<submission.csv>',
      description:
        'predictions: a submission CSV (U+XXXX cx cy) or labelled rows (U+XXXX x y w h, scored by box centre)',
      default: 'required',
    },
    'submitted-only': {
      type: 'boolean',
      description: 'score only the truth pages the predictions have a row for (else a missing page is all misses)',
    },
  },
  example:
    '--truth ../shared/data/codh/100241706_00004_2.train-row.csv --pred ../shared/data/codh/100241706_00004_2.train-row.csv',
};
