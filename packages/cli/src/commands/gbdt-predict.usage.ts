/** Flags of `kzr gbdt predict` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    model: { type: 'string', value: '<model.txt>', description: 'LightGBM text model', default: 'required' },
    csv: { type: 'string', value: '<x.csv>', description: 'feature table with a header row', default: 'required' },
    label: { type: 'string', value: '<column>', description: 'label column, dropped when present', default: 'label' },
  },
  example: '--model model.txt --csv features.csv',
};
