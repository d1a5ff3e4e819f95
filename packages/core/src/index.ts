/**
 * `@kzr/core`: pure domain code, no I/O and no dependencies. Kaggle and CODH formats,
 * detection-set JSON, book ids, the class map, the book-title split and sampling, IoU, NMS,
 * voting, the Kaggle F1 metric, reading order, and the error base every package extends.
 * Callers read and write files; core parses and formats text.
 */
export { bookIdOf, compareCodeStrings, countPagesByBook, requireBookId } from './books.js';
export { buildClassMap } from './class-map.js';
export { CODH_HEADER, codhToPageLabels, parseCodhCoordinates } from './codh-coordinates.js';
export { isUnicodeCode } from './csv-text.js';
export { formatCropList, parseCropList } from './crop-list.js';
export { DETECTION_SET_VERSION, formatDetectionSet, parseDetectionSet, toDetectionSet } from './detection-set.js';
export {
  ErrorKind,
  errorKindOf,
  IntegrityCheck,
  IntegrityError,
  InvalidArgumentError,
  KzrError,
  ParseError,
} from './errors.js';
export { escapeControlCharacters, exitCodeOf, failureText } from './exit-code.js';
export { boxCenter, iou, nms } from './geometry.js';
export {
  formatSubmissionCsv,
  formatTrainCsv,
  isPageId,
  KAGGLE_HEADER,
  parseSubmissionCsv,
  parseTrainCsv,
  requirePageId,
} from './kaggle-csv.js';
export { f1FromCounts, matchPage, scoreSubmission } from './metric.js';
export { readingOrder, readingSequence } from './reading-order.js';
export { createRng, deriveSeed, restoreRng } from './rng.js';
export {
  ClassRule,
  cropsFromLabels,
  oversample,
  pageIdOfCropPath,
  SamplingDefaults,
  SplitBook,
  splitByBook,
  undersampleForEpoch,
} from './split.js';
export {
  charOfCode,
  codeOfChar,
  formatUnicodeTranslation,
  parseUnicodeTranslation,
  UNICODE_TRANSLATION_HEADER,
} from './unicode-translation.js';
export { hardVote, meanLogits, softmaxFloat32, softVote } from './voting.js';

export type { ClassMap } from './class-map.js';
export type { CodhChar } from './codh-coordinates.js';
export type { CropEntry } from './crop-list.js';
export type { Detection, DetectionSet, PageDetections } from './detection-set.js';
export type { IntegrityErrorOptions, KzrErrorOptions, ParseErrorLocation } from './errors.js';
export type { Box, NmsOptions } from './geometry.js';
export type { CharLabel, CharPoint, PageLabels, PagePredictions } from './kaggle-csv.js';
export type { F1Score, PageMatch } from './metric.js';
export type { ReadingOrderOptions, ReadingPosition } from './reading-order.js';
export type { MutableArrayLike, Rng, RngState } from './rng.js';
export type { BookSplit, BookSplitOptions, UndersampleOptions } from './split.js';
export type { SoftVote, Vote } from './voting.js';
