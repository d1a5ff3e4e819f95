// TensorFlow.js: backend selection, composite wasm training kernels, model zoo with the cosine
// (L2-constrained softmax) head, losses, SGD + schedules, training loop, checkpoints, predictor.
export { backendPreference, BackendName, initBackend } from './backend/select-backend.js';
export { compositeWasmKernels, registerWasmTrainingKernels } from './backend/wasm-kernels.js';
export {
  BackendUnavailableError,
  CheckpointError,
  isMlValidationError,
  isNonFiniteLossError,
  MlError,
  MlErrorKind,
  MlValidationError,
  NonFiniteLossError,
} from './errors.js';

export type { BackendChoice, InitBackendOptions } from './backend/select-backend.js';
