/** Flags of `kzr preprocess crops` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    labels: {
      type: 'string',
      value: '<train.csv>',
      description: 'labelled pages: a Kaggle train.csv or a CODH <book>_coordinate.csv',
      default: 'required',
    },
    images: {
      type: 'string',
      value: '<dir>',
      description: 'folder of the page images (<page>.jpg, .png, ...)',
      default: 'required',
    },
    out: {
      type: 'string',
      value: '<dir>',
      description: 'new (or empty) folder for the crops and crops.csv',
      default: 'required',
    },
    policy: { type: 'string', value: 'train|infer|pseudo', description: 'padding policy', default: 'required' },
    size: {
      type: 'string',
      value: '<S>',
      description: 'resize each crop to S x S (bicubic)',
      default: "the padded box's size",
    },
    channels: { type: 'string', value: '1|3', description: '1 for grayscale', default: '3' },
  },
  example: '--labels train.csv --images train_images --out crops --policy train --size 112 --channels 1',
};
