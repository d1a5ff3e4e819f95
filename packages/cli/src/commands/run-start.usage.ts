/** Flags of `kzr run start` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    dataset: {
      type: 'string',
      value: '<name|dir>',
      description:
        "a dataset in the Store, or a Kaggle-layout folder to ingest under its folder's name; without it the spec's dataset (a synthetic one is generated with the spec's seed, or reused)",
      default: "the spec's",
    },
    preset: {
      type: 'string',
      value: '<name>',
      description: 'a preset of configs/runs/: smoke, default, upstream',
      default: 'default unless --spec',
    },
    spec: {
      type: 'string',
      value: '<file>',
      description: 'a run spec file (configs/runs/README.md); model configuration paths are relative to it',
      default: 'none',
    },
    run: { type: 'string', value: '<run>', description: 'the run name', default: 'r-<yyyymmdd>-<hhmmss>-<4 hex>' },
    watch: {
      type: 'boolean',
      description: "also print each phase's progress lines as its Job writes them (local Jobs; without a trainer)",
    },
  },
  example: '--preset smoke',
};
