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
    batch: { type: 'string', value: '<n>', description: 'crops per batch', default: '128' },
  },
  example: '--model checkpoints/tiny/best --crops crops/val.csv',
};
