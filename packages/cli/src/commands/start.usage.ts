/** Flags of `kzr start` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    dataset: {
      type: 'string',
      value: '<dir>',
      description:
        "a Kaggle- or CODH-layout folder a first start trains on (KZR_START_RUN's preset), instead of the preset's synthetic books",
      default: "the preset's synthetic books",
    },
  },
  example: '--dataset ./kuzushiji',
};
