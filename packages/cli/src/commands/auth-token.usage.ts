/** Flags of `kzr auth token` (help and parser). */
import type { CommandUsage } from '../args.js';

export const usage: CommandUsage = {
  flags: {
    name: {
      type: 'string',
      value: '<name>',
      description: 'who holds the token (logs name the caller by it)',
      default: 'required',
    },
    role: {
      type: 'string',
      value: 'read|infer|train|admin',
      description: 'the role the token grants',
      default: 'required',
    },
    'token-file': {
      type: 'string',
      value: '<file>',
      description: 'hash the token in this file instead of making a new one',
      default: 'a new random token',
    },
  },
  example: '--name ci --role train',
};
