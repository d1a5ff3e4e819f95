export { checkpointEpoch, readFailureReport, writeFailureReport } from './attempt-report.js';
export { compileTrainerConfig, defaultTrainerPort, trainerEnvNames } from './config.js';
export { driveRun, phaseJobName } from './controller.js';
export {
  phaseLineFromWire,
  phaseLineToWire,
  phaseStatusToWire,
  runSpecToWire,
  runSummaryFromWire,
  runToWire,
} from './convert.js';
export { createTrainer } from './create.js';
export { kzrBin, repoRoot } from './paths.js';
export {
  checkRunName,
  createRun,
  findRunRecord,
  loadRunSpec,
  newRunName,
  runNameOfRequest,
  storedDatasetDigest,
  syntheticDatasetName,
} from './run-create.js';
export { phaseLines, runLine, runListLine, summarizeRun } from './run-lines.js';
export { datasetOfRequest, runSpecOfRequest } from './run-request.js';
export { TrainerRuns } from './runs.js';
export { createTrainerHandlers, createTrainerService, trainerServiceName } from './service.js';
export type { FailureReport } from './attempt-report.js';
export type { TrainerConfig } from './config.js';
export type { DriveRunOptions, DrivenRun } from './controller.js';
export type { TrainerOptions, TrainerRuntime } from './create.js';
export type { SpecSource, StoredRunDataset } from './run-create.js';
export type { PhaseLine, RunSummary } from './run-lines.js';
export type { RunRequest } from './run-request.js';
export type { RequestedRun, TrainerRunsOptions } from './runs.js';
export type { TrainerDeps } from './service.js';
