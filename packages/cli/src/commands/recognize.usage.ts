/** Flags of `kzr recognize` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<page|folder>...',
  flags: {
    detections: {
      type: 'string',
      multiple: true,
      value: '<sets.json>',
      description: 'detection-set JSON (one set or an array of sets)',
      default: 'required',
    },
    'model-set': {
      type: 'string',
      value: '<name>',
      description: 'model set to recognise with',
      default: 'the newest published set',
    },
    version: {
      type: 'string',
      value: '<v>',
      description: 'version of the model set (needs --model-set)',
      default: 'its newest published version',
    },
    server: {
      type: 'string',
      value: '<host:port>',
      description: 'inference service to call over gRPC',
      default: 'none: runs in this process',
    },
    voting: { type: 'string', value: 'hard|soft', description: 'how the ensemble votes', default: "the model set's" },
    threshold: {
      type: 'string',
      value: '<p>',
      description: 'probability under which a character is flagged low-confidence',
      default: '0.5',
    },
    'page-id': {
      type: 'string',
      value: '<id>',
      description: 'page id in the detection sets',
      default: 'the image file name without extension',
    },
    'filter-version': {
      type: 'string',
      value: '<v>',
      description: 'false-positive filter version to apply',
      default: 'the current published filter',
    },
    unfiltered: {
      type: 'boolean',
      description: 'every merged candidate with its filter features, no filter applied (for fitting one)',
    },
    'out-csv': {
      type: 'string',
      value: '<file>',
      description: 'also write the pages as a Kaggle submission CSV',
      default: 'none',
    },
  },
  example: 'page.jpg --detections detections/det-a.json --detections detections/det-b.json',
};
