export { compilePostprocessConfig, defaultPostprocessPort } from './config.js';
export { createPostprocessService, postprocessServiceName } from './service.js';
