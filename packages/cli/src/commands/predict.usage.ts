/** Flags of `kzr predict` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    model: {
      type: 'string',
      value: '<checkpoint dir>',
      description: 'a kzr train checkpoint, such as <out>/best',
      default: 'required',
    },
    crops: {
      type: 'string',
      value: '<crops>',
      description: 'shard directory, label,path CSV or folder of images',
      default: 'required',
    },
    view: {
      type: 'string',
      value: 'centre|tta',
      description: "the predictor's views: the centre crop alone, or the mean logits of the 7 TTA crops",
      default: 'tta',
    },
    batch: { type: 'string', value: '<n>', description: 'crops per batch', default: '128' },
  },
  example: '--model checkpoints/tiny/best --crops crops/val.csv',
};
