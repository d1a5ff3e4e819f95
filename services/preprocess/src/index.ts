export { compilePreprocessConfig, compilePreprocessLimits, defaultPreprocessPort } from './config.js';
export { asValidationError, validating } from './errors.js';
export { cutCrops, decodePage, imageBytes, paddingFromWire } from './pages.js';
export { createPreprocessService, preprocessHandlers, preprocessServiceName } from './service.js';

export type { PreprocessConfig, PreprocessLimits } from './config.js';
export type { CutCropsOptions, IndexedCrop } from './pages.js';
export type { PreprocessServiceOptions } from './service.js';
