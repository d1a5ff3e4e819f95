export { compilePostprocessConfig, defaultPostprocessPort } from './config.js';
export { fromWire, toWire } from './convert.js';
export { FILTER_BASE_PARAMS, UPSTREAM_FILTER_PARAMS, fitFilterSteps, trainingTable } from './fit.js';
export { MemoryFilterRepository, StoreFilterRepository, checkVersion, newFilterVersion } from './filters.js';
export { FilterState, createPostprocessHandlers, createPostprocessService, postprocessServiceName } from './service.js';
export type { WireBox, WirePage } from './convert.js';
export type { FitOptions, FitResult, FitStep } from './fit.js';
export type { Filter, FilterManifest, FilterRepository } from './filters.js';
export type { PostprocessDeps, PostprocessServiceHandle } from './service.js';
