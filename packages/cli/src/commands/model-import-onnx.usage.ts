/** Flags of `kzr model import-onnx` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  positionals: '<member>...',
  flags: {
    'model-set': {
      type: 'string',
      value: '<name>',
      description: 'the model set to publish a version of',
      default: 'required',
    },
    version: { type: 'string', value: '<v>', description: 'the version to publish', default: 'required' },
    classes: {
      type: 'string',
      value: '<file>',
      description: 'class list of ONNX members: JSON {"codes": [...]}, a JSON array, or one code per line',
      default: 'required for ONNX members',
    },
    input: {
      type: 'string',
      value: '<c,S,C>',
      description: 'input spec of ONNX members: channels, scale size, crop size',
      default: 'required for ONNX members',
    },
    mean: {
      type: 'string',
      value: '<m,...>',
      description: 'per-channel mean of ONNX members',
      default: 'required for ONNX members',
    },
    std: {
      type: 'string',
      value: '<s,...>',
      description: 'per-channel standard deviation of ONNX members',
      default: 'required for ONNX members',
    },
    layout: { type: 'string', value: 'nchw|nhwc', description: 'tensor layout of ONNX members', default: 'nchw' },
    voting: { type: 'string', value: 'hard|soft', description: 'how the members vote', default: 'hard' },
    engine: {
      type: 'string',
      value: 'auto|onnx|tfjs',
      description: 'engine inference runs the set on',
      default: 'auto',
    },
    'page-preprocessing': {
      type: 'string',
      value: 'ben+denoise|none',
      description: "what the members' training crops were cut from; RecognizePage preprocesses pages the same way",
      default: 'ben+denoise',
    },
  },
  example: '--model-set kuzushiji --version v1 checkpoints/tiny/best',
};
