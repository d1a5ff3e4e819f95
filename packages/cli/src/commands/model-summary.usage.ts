/** Flags of `kzr model summary` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<config.json>',
  flags: {},
  example: 'configs/models/tiny-resnet-gray32.json',
};
