// Post-processing logic (pure): NMS across classified detection sets, false-positive features, keep rule, submission rows.
export { FP_FEATURE_COUNT, FP_FEATURE_NAMES, NEIGHBOURS, falsePositiveFeatures, pyRound } from './features.js';
export {
  DEFAULT_KEEP_THRESHOLD,
  boxPoint,
  f1AtThreshold,
  falsePositiveLabels,
  keepBoxes,
  submissionRows,
  tuneThreshold,
} from './keep.js';
export { MERGE_IOU_THRESHOLD, mergeDetectionSets } from './merge.js';
export { checkBox, checkPage } from './validate.js';
export type { ClassifiedBox, ClassifiedPage } from './types.js';
