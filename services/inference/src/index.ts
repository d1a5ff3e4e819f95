export {
  compileInferenceConfig,
  compileInferenceLimits,
  defaultInferenceLimits,
  defaultInferencePort,
  inferenceEnvNames,
  localPagePath,
} from './config.js';
export { createInference, createInferenceServing } from './create.js';
export { DynamicBatcher } from './ensemble/batcher.js';
export { classifyCrops, memberLogits, vote } from './ensemble/classify.js';
export { EngineKind } from './engine/engine.js';
export { createOnnxEngine, nhwcToNchw } from './engine/onnx-engine.js';
export { onnxParity } from './engine/onnx-parity.js';
export { buildClassifierWithWeights, createTfjsEngine } from './engine/tfjs-engine.js';
export { ModelLoadError } from './errors.js';
export { modelSetHealthName, reportModelSetHealth } from './health.js';
export { LoadedModelSet, loadModelSet } from './models/load-model-set.js';
export { ModelRegistry } from './models/registry.js';
export { InferenceMetrics } from './metrics.js';
export { createOipService, oipServiceName, oipTensor } from './oip-service.js';
export { checkDetectionSets, classifyDetectionSets, perSetNmsIou } from './recognize/classify-sets.js';
export { grpcPagePath } from './recognize/page-path.js';
export { createInferenceService, handleClassifyCrops, handleRecognizePage, inferenceServiceName } from './service.js';
export { Serving } from './serving.js';

export type { InferenceConfig, InferenceLimits } from './config.js';
export type { InferenceOptions, InferenceRuntime, InferenceServing, InferenceServingOptions } from './create.js';
export type {
  ClassifiedDetection,
  ClassifiedSet,
  ClassifySetsOptions,
  DetectionInput,
  DetectionSetInput,
} from './recognize/classify-sets.js';
export type { PagePathEndpoints, PagePathSteps } from './recognize/page-path.js';
export type { ServingOptions } from './serving.js';
export type { BatchingOptions, BatchObserver } from './ensemble/batcher.js';
export type { ClassifyOptions, CropPrediction, LabelScore } from './ensemble/classify.js';
export type { InferenceEngine } from './engine/engine.js';
export type { OnnxEngineOptions } from './engine/onnx-engine.js';
export type { LoadedMember, LoadOptions } from './models/load-model-set.js';
export type { ModelLease, ModelSetStatus, RegistryOptions } from './models/registry.js';
