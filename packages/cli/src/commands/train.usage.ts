/** Flags of `kzr train` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    config: {
      type: 'string',
      value: '<config.json>',
      description: 'model configuration (configs/models/)',
      default: 'required',
    },
    train: {
      type: 'string',
      value: '<crops>',
      description: 'training crops: shard directory or label,path CSV',
      default: 'required',
    },
    val: {
      type: 'string',
      value: '<crops>',
      description: 'validation crops: shard directory or label,path CSV',
      default: 'required unless --preview',
    },
    out: {
      type: 'string',
      value: '<dir>',
      description: 'checkpoint folder (with --store: the Store key prefix runs/<run>/<phase>/<model>)',
      default: 'required',
    },
    resume: { type: 'boolean', description: 'continue from the newest checkpoint in --out' },
    preview: {
      type: 'string',
      value: '<n>',
      description: 'write <out>/preview.png with n augmented samples and exit',
      default: 'off',
    },
    epochs: { type: 'string', value: '<n>', description: 'number of epochs', default: "the config's" },
    'refine-lr': {
      type: 'string',
      value: '<lr>',
      description: 'refinement: fine-tune at this constant learning rate',
      default: 'off',
    },
    workers: {
      type: 'string',
      value: '<n>',
      description: 'data-parallel worker threads',
      default: 'every core on the wasm and cpu backends, else 1',
    },
    store: { type: 'boolean', description: 'write checkpoints to the configured Store instead of a folder' },
  },
  example:
    '--config configs/models/tiny-resnet-gray32.json --train crops/train.csv --val crops/val.csv --out checkpoints/tiny',
};
