// What lives in the Store and how: every artifact key, model-set manifests, safetensors, checkpoint members and checkpoint storage, filter versions, run records and cancel requests, dataset digests, phase manifests, phase cache entries, stage reports, retention.
export { loadCheckpointMember, loadStoredCheckpointMember } from './checkpoint-member.js';
export { storeCheckpointStorage } from './checkpoint-storage.js';
export { datasetDigest } from './dataset-digest.js';
export {
  filterSchemaVersion,
  MemoryFilterRepository,
  newFilterVersion,
  parseFilterManifest,
  StoreFilterRepository,
} from './filter-versions.js';
export {
  checkRelativeKey,
  checkSegment,
  cropIndexKey,
  cropShardKey,
  cropsPrefix,
  datasetDetectionsKey,
  datasetDetectionsPrefix,
  datasetLabelsKey,
  datasetPageKey,
  datasetPagesPrefix,
  datasetPrefix,
  datasetUnicodeTranslationKey,
  filterFileKey,
  filterManifestKey,
  filtersPrefix,
  maxSegmentLength,
  modelSetFileKey,
  modelSetManifestKey,
  modelSetPromotionKey,
  modelSetsPrefix,
  modelSetVersionPrefix,
  parseFilterManifestKey,
  parseModelSetManifestKey,
  parseRunRecordKey,
  phaseCacheKey,
  phaseManifestKey,
  preprocessedPageKey,
  ResultFolderKind,
  resultKey,
  runCancelRequestKey,
  runOutputPrefix,
  runRecordKey,
  runsPrefix,
  runStagesKey,
} from './keys.js';
export {
  EngineChoice,
  modelSetManifestFormat,
  modelSetSchemaVersion,
  PagePreprocessing,
  parseClassMapFile,
  parseInputSpec,
  parseManifest,
  VotingMode,
} from './model-set-manifest.js';
export {
  lookupPhaseCache,
  parsePhaseCacheEntry,
  phaseCacheSchemaVersion,
  readPhaseCacheEntry,
  writePhaseCacheEntry,
} from './phase-cache.js';
export {
  parsePhaseManifest,
  phaseManifestSchemaVersion,
  phaseMemberKey,
  phaseOutputPrefix,
  readPhaseManifest,
  readPhaseMember,
  writePhaseManifest,
  writePhaseMember,
} from './phase-manifests.js';
export { classifierWeights, publishModelSet } from './publish-model-set.js';
export {
  announceServedVersion,
  listModelSetVersions,
  promoteVersion,
  readPromotion,
  rollbackVersion,
  servedModelSetVersion,
} from './model-set-promotion.js';
export type { ModelSetVersionInfo, Promotion } from './model-set-promotion.js';
export { newestModelSetVersion, readMemberClassMap, readModelSetFile, readModelSetManifest } from './read-model-set.js';
export { collectGarbage } from './retention.js';
export { listRuns, readRunCancelRequest, readRunRecord, requestRunCancel, writeRunRecord } from './run-records.js';
export { decodeSafetensors, encodeSafetensors } from './safetensors.js';
export { checkSchemaVersion } from './schema.js';
export {
  parseStagesReport,
  readStagesReport,
  RunStage,
  stagesSchemaVersion,
  writeStagesReport,
} from './stages-report.js';

export type { CheckpointMember } from './checkpoint-member.js';
export type { Filter, FilterManifest, FilterRepository } from './filter-versions.js';
export type { ClassMapFile, FileRef, InputSpec, MemberManifest, ModelSetManifest } from './model-set-manifest.js';
export type { PhaseCacheEntry, WritePhaseCacheEntryOptions } from './phase-cache.js';
export type { PhaseManifest, WritePhaseManifestOptions, WrittenPhaseManifest } from './phase-manifests.js';
export type { MemberSource, PublishModelSetOptions } from './publish-model-set.js';
export type { Removal, RetentionOptions, RetentionReport } from './retention.js';
export type { RunCancelRequest } from './run-records.js';
export type { NamedTensor } from './safetensors.js';
export type { StageRow, StagesReport } from './stages-report.js';
