/** Flags of `kzr postprocess filter` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    pred: {
      type: 'string',
      value: '<results.json>',
      description: 'classified pages: a JSON array of kzr.v1.PagePredictions or {"pages": [...]}',
      default: 'required',
    },
    filter: {
      type: 'string',
      multiple: true,
      value: '<model.txt>',
      description: 'false-positive filter model; several are averaged',
      default: 'required',
    },
    threshold: {
      type: 'string',
      value: '<p>',
      description: 'keep a character iff P(correct) is at least this',
      default: '0.5',
    },
    out: {
      type: 'string',
      value: '<submission.csv>',
      description: 'where to write the submission CSV',
      default: 'required',
    },
  },
  example: '--pred results.json --filter filter.txt --out submission.csv',
};
