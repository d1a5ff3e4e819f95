export { compilePreprocessConfig, defaultPreprocessPort } from './config.js';
export { createPreprocessService, preprocessServiceName } from './service.js';
