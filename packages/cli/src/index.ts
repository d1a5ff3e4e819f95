export { formatHelp, intFlag, parseCommand, printJson, requireFlag, UsageError } from './args.js';
export { compileEmbeddedConfig } from './config.js';

export type { CommandUsage, FlagUsage, ParsedArgs } from './args.js';
export type { EmbeddedConfig } from './config.js';
