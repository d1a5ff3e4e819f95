// TensorFlow.js: backend selection, composite wasm training kernels, model zoo with the cosine
// (L2-constrained softmax) head, losses, SGD + schedules, training loop, checkpoints, predictor.
export { backendPreference, BackendName, initBackend } from './backend/select-backend.js';
export { compositeWasmKernels, registerWasmTrainingKernels } from './backend/wasm-kernels.js';
export {
  BackendUnavailableError,
  CheckpointError,
  isNonFiniteLossError,
  MlError,
  MlValidationError,
  NonFiniteLossError,
  OnnxExportError,
} from './errors.js';

export type { BackendChoice, InitBackendOptions } from './backend/select-backend.js';
export { countParams, createClassifier } from './models/create-model.js';
export { validateArchitecture } from './models/validate-architecture.js';
export { buildCosineHead, defaultHeadScale, l2Normalize } from './models/head.js';
export { Arch, Stem } from './models/types.js';
export { applyBatchNormUpdates } from './nn/layers.js';
export { ParamSet } from './nn/params.js';
export type { ArchitectureConfig, Classifier, ParamCounts } from './models/types.js';
export type { ForwardContext, Layer } from './nn/layers.js';
export type { NamedVariable } from './nn/params.js';
export { BatchMix, parseModelConfig, readModelConfig } from './config/model-config.js';
export type {
  AugmentConfig,
  InputConfig,
  ModelConfig,
  ModelConfigFile,
  ScheduleConfig,
  TrainConfig,
} from './config/model-config.js';
export { prepareTrainBatch, sampleParams } from './train/batches.js';
export {
  checkpointSchemaVersion,
  copyCheckpoint,
  epochKey,
  loadCheckpointInto,
  readCheckpointState,
  writeCheckpoint,
} from './train/checkpoint.js';
export { classList, epochOrder, loadCrops } from './train/dataset.js';
export { mixedTargets, refinementTargets, softCrossEntropy } from './train/losses.js';
export { confusionSummary, curveSvg } from './train/reports.js';
export { learningRate, scaleSchedule } from './train/schedule.js';
export { Sgd } from './train/sgd.js';
export { directoryStorage } from './train/storage.js';
export { train } from './train/trainer.js';
export type { PreparedBatch } from './train/batches.js';
export type { CheckpointState, EpochMetrics } from './train/checkpoint.js';
export type { EpochSampling, LabelledCrop } from './train/dataset.js';
export type { ConfusionSummary } from './train/reports.js';
export type { LrScheduleParams } from './train/schedule.js';
export type { SgdOptions } from './train/sgd.js';
export type { CheckpointStorage } from './train/storage.js';
export type { IterationInfo } from './train/epoch.js';
export type { TrainOptions, TrainResult } from './train/trainer.js';
export { exportClassifierToOnnx, onnxInputName, onnxOutputName } from './onnx/export-classifier.js';
export type { OnnxExportOptions } from './onnx/export-classifier.js';
export { Predictor } from './predict/predictor.js';
export {
  meanOverViews,
  parseView,
  ttaViewCount,
  View,
  viewImages,
  viewInput,
  viewInputs,
  viewsPerCrop,
} from './predict/views.js';
export type { ViewInput } from './predict/views.js';
export type { PredictOptions, Prediction } from './predict/predictor.js';
export { GradWorkerPool } from './train/parallel.js';
export { shardSizes } from './train/step-plan.js';
