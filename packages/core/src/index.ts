/**
 * `@kzr/core`: pure domain code, no I/O and no dependencies. Kaggle and CODH formats,
 * detection-set JSON, book ids, the class map, the book-title split and sampling, IoU, NMS,
 * voting, the Kaggle F1 metric and reading order. Callers read and write files; core parses
 * and formats text.
 */
export { bookIdOf, compareCodeStrings, countPagesByBook, requireBookId } from './books.js';
export { buildClassMap } from './class-map.js';
export { CODH_HEADER, codhToPageLabels, parseCodhCoordinates } from './codh-coordinates.js';
export { isUnicodeCode } from './csv-text.js';
export { cropPathOf, formatCropList, parseCropList } from './crop-list.js';
export { DETECTION_SET_VERSION, formatDetectionSet, parseDetectionSet, toDetectionSet } from './detection-set.js';
export { InvalidArgumentError, ParseError } from './errors.js';
export {
  formatSubmissionCsv,
  formatTrainCsv,
  isPageId,
  KAGGLE_HEADER,
  parseSubmissionCsv,
  parseTrainCsv,
} from './kaggle-csv.js';
export {
  charOfCode,
  codeOfChar,
  formatUnicodeTranslation,
  parseUnicodeTranslation,
  UNICODE_TRANSLATION_HEADER,
} from './unicode-translation.js';

export type { ClassMap } from './class-map.js';
export type { CodhChar } from './codh-coordinates.js';
export type { CropEntry } from './crop-list.js';
export type { Detection, DetectionSet, PageDetections } from './detection-set.js';
export type { ParseErrorLocation } from './errors.js';
export type { CharLabel, CharPoint, PageLabels, PagePredictions } from './kaggle-csv.js';
