/** Flags of `kzr model export-onnx` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<checkpoint dir> <out.onnx>',
  flags: {},
  example: 'checkpoints/tiny/best tiny.onnx',
};
