export { compileInferenceConfig, defaultInferencePort } from './config.js';
export { isModelLoadError, ModelLoadError, OnnxExportError } from './errors.js';
export { exportClassifierToOnnx, onnxInputName, onnxOutputName } from './onnx/export-classifier.js';
export { createInferenceService, inferenceServiceName } from './service.js';

export type { OnnxExportOptions } from './onnx/export-classifier.js';
