export { compilePostprocessConfig, defaultPostprocessPort, postprocessEnvNames } from './config.js';
export { createPostprocess } from './create.js';
export { fromWire, pagesFromJson, toWire } from './convert.js';
export {
  FilterState,
  createPostprocessHandlers,
  defaultFilterCacheSize,
  filterSwapDurable,
  createPostprocessService,
  postprocessServiceName,
} from './service.js';
export type { PostprocessConfig } from './config.js';
export type { PostprocessOptions, PostprocessRuntime } from './create.js';
export type { WireBox, WirePage } from './convert.js';
export type { PostprocessDeps, PostprocessServiceHandle } from './service.js';
