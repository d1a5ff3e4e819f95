export {
  compilePreprocessConfig,
  compilePreprocessLimits,
  defaultPreprocessPort,
  preprocessEnvNames,
} from './config.js';
export { createPreprocess } from './create.js';
export { ingestCodhBooks, ingestKaggleDir } from './ingest.js';
export { decodePage, imageBytes, paddingFromWire, planCrops } from './pages.js';
export { createPreprocessService, preprocessHandlers, preprocessServiceName } from './service.js';
export { groundTruthSplit, handlePagesIngested, preprocessDurable, startPreprocessWorker } from './worker.js';

export type { PreprocessConfig, PreprocessLimits } from './config.js';
export type { PreprocessOptions, PreprocessRuntime } from './create.js';
export type { CodhIngestOptions, IngestOptions, IngestResult } from './ingest.js';
export type { PlanCropsOptions } from './pages.js';
export type { PreprocessServiceOptions } from './service.js';
export type { PreprocessWorkerOptions } from './worker.js';
