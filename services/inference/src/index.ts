export { compileInferenceConfig, defaultInferencePort } from './config.js';
export { createInferenceService, inferenceServiceName } from './service.js';
