export { intFlag, parseCommandArgs, printJson, requireFlag, UsageError } from './args.js';
export { compileEmbeddedConfig } from './config.js';

export type { ParsedArgs } from './args.js';
export type { EmbeddedConfig } from './config.js';
