/** Flags of `kzr order` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    labels: {
      type: 'string',
      value: '<train.csv>',
      description: 'labelled pages: a Kaggle train.csv or a CODH <book>_coordinate.csv',
      default: 'required',
    },
    page: { type: 'string', value: '<id>', description: 'the page', default: 'required' },
  },
  example: '--labels ../shared/data/codh/100241706_00004_2.train-row.csv --page 100241706_00004_2',
};
