/**
 * `@kzr/pipeline`: pure, on core only. The run spec of the training pipeline, its phase graph
 * (DESIGN.md "Runs"), input hashing, the run record and the reducer from its phase records to
 * the run's state, and the planner that decides what to start, skip, retry or cancel next.
 * Callers do the I/O: `@kzr/artifacts` stores records, manifests and cache entries; the
 * trainer and `kzr run` run the Jobs.
 */
export { RunRecordError, RunSpecError } from './errors.js';
export { canonicalJson, PhaseCodeVersion, phaseInputHash, phaseSpecSlice } from './input-hash.js';
export {
  buildPhaseGraph,
  downstreamOf,
  ExternalInput,
  modelPhaseNames,
  parsePhaseId,
  phaseId,
  PhaseName,
} from './phase-graph.js';
export { planRun, readyPhases } from './planner.js';
export { formatRunRecord, parseRunRecord, runRecordSchemaVersion } from './run-record.js';
export {
  parseRunSpec,
  resolveModelConfigs,
  RunBackend,
  RunSpecDefaults,
  runSpecSchemaVersion,
  runSpecToJson,
} from './run-spec.js';
export {
  applyRunEvent,
  canRetry,
  initialRunState,
  isFinalRunStatus,
  parseRunEvent,
  PhaseStatus,
  reduceRunState,
  RunEventType,
  RunStatus,
} from './run-state.js';

export type { PhaseGraph, PhaseId, PhaseNode } from './phase-graph.js';
export type {
  CachedPhase,
  CancelAction,
  PlanAction,
  PlanOptions,
  ReadyPhase,
  RunPlan,
  SkipAction,
  StartAction,
} from './planner.js';
export type { RunRecord } from './run-record.js';
export type {
  DatasetSpec,
  ExecutionSpec,
  FilterSpec,
  InferenceSpec,
  PseudoLabelSpec,
  PublishSpec,
  RefineSpec,
  RunModelSpec,
  RunSpec,
  RunSplitSpec,
  SplitSpec,
  SyntheticDatasetSpec,
} from './run-spec.js';
export type {
  CancelledEvent,
  CancelRequestedEvent,
  CheckpointEvent,
  CompletedEvent,
  FailedEvent,
  PhaseState,
  RunEvent,
  RunState,
  StartedEvent,
} from './run-state.js';
