/** Flags of `kzr gc` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    'keep-runs': {
      type: 'string',
      value: '<n>',
      description: 'final runs to keep, the newest (runs not final, and runs a kept run read, stay too)',
      default: '10',
    },
    'keep-versions': {
      type: 'string',
      value: '<n>',
      description: 'versions to keep per model set, the newest (the served, promoted and rollback ones stay too)',
      default: '3',
    },
    'dry-run': { type: 'boolean', description: 'print what would be removed, remove nothing' },
  },
  example: '--keep-runs 5 --keep-versions 2 --dry-run',
};
