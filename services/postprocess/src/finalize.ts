/**
 * The postprocess end of the page path (DESIGN.md "The page path"): the classified detection
 * sets of one page are merged by core's NMS, the false-positive filter keeps the likely correct
 * boxes, and the kept characters are put in reading order (columns right to left, top to
 * bottom) with the page's text and Kaggle labels. MergeDetections, FilterPredictions and
 * FinalizePage share {@link mergePages} and {@link applyFilter}, so there is one merge and one
 * filter rule.
 */
import type { CharacterResult } from '@kzr/api/kzr/v1/common';
import type { FinalizePageRequest, FinalizePageResponse, PagePredictions } from '@kzr/api/kzr/v1/postprocess';
import { charOfCode, isUnicodeCode, readingOrder, requirePageId } from '@kzr/core';
import {
  boxPoint,
  FP_FEATURE_COUNT,
  falsePositiveFeatures,
  keepBoxes,
  MERGE_IOU_THRESHOLD,
  mergeDetectionSets,
} from '@kzr/core/postprocess';
import type { Filter } from '@kzr/artifacts';
import { predictMean } from '@kzr/gbdt';
import { ValidationError } from '@kzr/platform';

import { fromWire, type WireBox, type WirePage } from './convert.js';

/** The `filter_version` of a page no filter was applied to. */
export const unfilteredVersion = 'unfiltered';

/** Low-confidence threshold of FinalizePage when the request gives none. */
export const defaultLowConfidenceThreshold = 0.5;

/**
 * Merges the classified sets of one page (all of the same page and size) with core's cross-set
 * NMS. Returns the first set's page with the kept boxes.
 */
export function mergePages(pages: readonly WirePage[], iouThreshold: number, field: string): WirePage {
  const first = pages[0];
  if (!first) throw new ValidationError(field, 'no detection sets');
  pages.forEach((page, i) => {
    if (page.pageId !== first.pageId) {
      throw new ValidationError(`${field}[${i}].pageId`, `"${page.pageId}" differs from "${first.pageId}"`);
    }
    if (page.width !== first.width || page.height !== first.height) {
      throw new ValidationError(`${field}[${i}].pageWidth`, `page size differs from ${field}[0]`);
    }
  });
  const merged = mergeDetectionSets(
    pages.map((p) => p.boxes),
    iouThreshold,
  ) as WireBox[];
  return { ...first, boxes: merged };
}

/**
 * Keeps the boxes of `page` whose mean P(correct) over the filter's fold boosters is at least
 * `threshold` (0: the filter's tuned threshold).
 */
export function applyFilter(filter: Filter, page: WirePage, threshold: number, field: string): WirePage {
  if (page.boxes.length === 0) return page;
  const p = predictMean(filter.boosters, {
    numRows: page.boxes.length,
    numFeatures: FP_FEATURE_COUNT,
    values: falsePositiveFeatures(page, field),
  });
  return { ...page, boxes: keepBoxes(page.boxes, p, threshold === 0 ? filter.threshold : threshold) as WireBox[] };
}

/** A set of FinalizePage as a page: its own page id and size where given, else the request's. */
function readSet(
  request: FinalizePageRequest,
  set: PagePredictions,
  field: string,
  maxCharacters: number | undefined,
): WirePage {
  return fromWire(
    {
      ...set,
      pageId: set.pageId || request.pageId,
      pageWidth: set.pageWidth || request.pageWidth,
      pageHeight: set.pageHeight || request.pageHeight,
    },
    field,
    maxCharacters,
  );
}

/** Checks a FinalizePage request's scalars; throws a ValidationError naming the field. */
function checkRequest(request: FinalizePageRequest): void {
  requirePageId('page_id', request.pageId);
  if (!(request.pageWidth > 0)) throw new ValidationError('page_width', `expected > 0, got ${request.pageWidth}`);
  if (!(request.pageHeight > 0)) throw new ValidationError('page_height', `expected > 0, got ${request.pageHeight}`);
  for (const [field, value] of [
    ['threshold', request.threshold],
    ['low_confidence_threshold', request.lowConfidenceThreshold],
  ] as const) {
    if (!(value >= 0 && value <= 1)) throw new ValidationError(field, `expected a value in [0, 1], got ${value}`);
  }
}

/**
 * The kept boxes in reading order, each as the wire character it came in as, with its column,
 * order and low-confidence flag; the text (one line per column, right to left) and the Kaggle
 * labels string.
 */
export function readPage(
  boxes: readonly WireBox[],
  lowConfidenceThreshold: number,
): Pick<FinalizePageResponse, 'characters' | 'text' | 'kaggleLabels'> {
  const positions = readingOrder(boxes);
  const ordered = boxes
    .map((b, i) => ({ box: b, position: positions[i]! }))
    .sort((a, b) => a.position.order - b.position.order);
  const characters = ordered.map(({ box, position }): CharacterResult => ({
    ...box.source,
    character: box.source.character || (isUnicodeCode(box.code) ? charOfCode(box.code) : ''),
    column: position.column,
    order: position.order,
    lowConfidence: box.probability < lowConfidenceThreshold,
  }));
  const lines: string[] = [];
  for (const c of characters) lines[c.column] = (lines[c.column] ?? '') + c.character;
  const kaggleLabels = ordered
    .map(({ box }) => boxPoint(box))
    .map((p) => `${p.code} ${p.x} ${p.y}`)
    .join(' ');
  return { characters, text: Array.from(lines, (l) => l ?? '').join('\n'), kaggleLabels };
}

/**
 * FinalizePage: merge, filter (`filter` undefined: none applied), reading order, text and
 * labels. `findFilter` resolves the request's filter version; it resolves undefined when the
 * request names none and none is published.
 */
export async function finalizePage(
  request: FinalizePageRequest,
  findFilter: (version: string) => Promise<Filter | undefined>,
  maxCharacters?: number,
): Promise<FinalizePageResponse> {
  checkRequest(request);
  if (request.sets.length === 0) throw new ValidationError('sets', 'at least one detection set is needed');
  const pages = request.sets.map((set, i) => readSet(request, set, `sets[${i}]`, maxCharacters));
  pages.forEach((page, i) => {
    if (page.pageId !== request.pageId) {
      throw new ValidationError(`sets[${i}].page_id`, `${page.pageId} is not the request's page ${request.pageId}`);
    }
    if (page.width !== request.pageWidth || page.height !== request.pageHeight) {
      throw new ValidationError(`sets[${i}].page_width`, 'page size differs from the request');
    }
  });
  const merged = mergePages(pages, MERGE_IOU_THRESHOLD, 'sets');
  const filter = request.unfiltered ? undefined : await findFilter(request.filterVersion);
  const kept = filter ? applyFilter(filter, merged, request.threshold, 'page') : merged;
  return {
    pageId: request.pageId,
    pageWidth: request.pageWidth,
    pageHeight: request.pageHeight,
    filterVersion: filter ? filter.version : unfilteredVersion,
    ...readPage(kept.boxes, request.lowConfidenceThreshold || defaultLowConfidenceThreshold),
  };
}
