export { compilePostprocessConfig, defaultPostprocessPort } from './config.js';
export { createPostprocess } from './create.js';
export { fromWire, toWire } from './convert.js';
export { FILTER_BASE_PARAMS, UPSTREAM_FILTER_PARAMS, fitFilterSteps, trainingTable } from './fit.js';
export {
  FilterState,
  createPostprocessHandlers,
  defaultFilterCacheSize,
  createPostprocessService,
  postprocessServiceName,
} from './service.js';
export type { PostprocessConfig } from './config.js';
export type { PostprocessOptions, PostprocessRuntime } from './create.js';
export type { WireBox, WirePage } from './convert.js';
export type { FitOptions, FitResult, FitStep } from './fit.js';
export type { PostprocessDeps, PostprocessServiceHandle } from './service.js';
