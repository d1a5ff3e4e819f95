export { compileEmbeddedConfig } from './config.js';

export type { EmbeddedConfig } from './config.js';
