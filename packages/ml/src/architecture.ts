// The model zoo's architecture names and their validation, without TensorFlow.js (`@kzr/ml/architecture`).
export { Arch, Stem } from './models/types.js';
export { validateArchitecture } from './models/validate-architecture.js';
export type { ArchitectureConfig } from './models/types.js';
