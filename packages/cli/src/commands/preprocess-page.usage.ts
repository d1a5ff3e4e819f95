/** Flags of `kzr preprocess page` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<in> <out.png>',
  flags: {
    'no-ben': { type: 'boolean', description: "skip Ben's filter" },
    'no-denoise': { type: 'boolean', description: 'skip the NL-means denoising' },
    threads: { type: 'string', value: '<n>', description: 'worker threads', default: 'every core' },
  },
  example: '--no-denoise ../shared/data/pages/sample-page.jpg /tmp/kzr-page.png',
};
