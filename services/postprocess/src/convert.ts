/** Conversions between the wire messages and core's post-processing types. */
import type { CharacterResult } from '@kzr/api/kzr/v1/common';
import { PagePredictions } from '@kzr/api/kzr/v1/postprocess';
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { requirePageId } from '@kzr/core';
import type { ClassifiedBox, ClassifiedPage } from '@kzr/core/postprocess';
import { LimitExceededError, ProtoJsonChecker, ValidationError } from '@kzr/platform';

/** A classified box that remembers the wire character it came from. */
export interface WireBox extends ClassifiedBox {
  readonly source: CharacterResult;
}

/** A page of {@link WireBox}es. */
export interface WirePage extends ClassifiedPage {
  boxes: WireBox[];
}

const CODE = /^U\+[0-9A-F]{4,6}$/;

function finite(value: number, field: string): number {
  if (!Number.isFinite(value)) throw new ValidationError(field, `expected a finite number, got ${value}`);
  return value;
}

/**
 * Most characters one page (one detection set of it) may hold by default: the false-positive
 * features of 50,000 take under a second (`@kzr/core/postprocess`), their 117 columns 47 MB.
 */
export const defaultMaxCharactersPerPage = 50_000;

/**
 * Reads a wire page, checking what the features need: a positive page size, and per character a
 * box with finite coordinates and non-negative size, a `U+XXXX` code, a probability in [0, 1]
 * and a finite detector score. Errors name the wire field, e.g. `pages[2].characters[5].box.width`.
 */
export function fromWire(page: PagePredictions, field: string, maxCharacters = defaultMaxCharactersPerPage): WirePage {
  if (page.characters.length > maxCharacters) {
    throw new LimitExceededError(
      `${field}.characters`,
      `${page.characters.length} characters`,
      'KZR_POSTPROCESS_MAX_CHARACTERS',
      maxCharacters,
    );
  }
  requirePageId(`${field}.pageId`, page.pageId);
  if (!(page.pageWidth > 0)) throw new ValidationError(`${field}.pageWidth`, `expected > 0, got ${page.pageWidth}`);
  if (!(page.pageHeight > 0)) throw new ValidationError(`${field}.pageHeight`, `expected > 0, got ${page.pageHeight}`);
  const boxes = page.characters.map((c, i): WireBox => {
    const at = `${field}.characters[${i}]`;
    if (!c.box) throw new ValidationError(`${at}.box`, 'is missing');
    if (!CODE.test(c.code)) throw new ValidationError(`${at}.code`, `expected U+XXXX, got ${JSON.stringify(c.code)}`);
    const width = finite(c.box.width, `${at}.box.width`);
    const height = finite(c.box.height, `${at}.box.height`);
    if (width < 0) throw new ValidationError(`${at}.box.width`, `expected >= 0, got ${width}`);
    if (height < 0) throw new ValidationError(`${at}.box.height`, `expected >= 0, got ${height}`);
    const probability = finite(c.probability, `${at}.probability`);
    if (probability < 0 || probability > 1) {
      throw new ValidationError(`${at}.probability`, `expected a value in [0, 1], got ${probability}`);
    }
    return {
      code: c.code,
      probability,
      score: finite(c.detectorScore, `${at}.detectorScore`),
      x: finite(c.box.x, `${at}.box.x`),
      y: finite(c.box.y, `${at}.box.y`),
      width,
      height,
      source: c,
    };
  });
  return { pageId: page.pageId, width: page.pageWidth, height: page.pageHeight, boxes };
}

/** Writes a page of kept boxes back in wire form, each character as it came in. */
export function toWire(page: WirePage, detectionSet: string): PagePredictions {
  return {
    pageId: page.pageId,
    pageWidth: page.width,
    pageHeight: page.height,
    detectionSet,
    characters: page.boxes.map((b) => b.source),
  };
}

let checker: ProtoJsonChecker | undefined;

/**
 * Reads classified pages from parsed JSON: an array of `kzr.v1.PagePredictions` (proto3 JSON) or
 * `{"pages": [...]}`, as `kzr recognize` writes it. Strict, like detection JSON: every item is
 * checked against the `.proto` first (unknown fields, wrong types and bad enums are errors, where
 * ts-proto's `fromJSON` would make them 0 or empty), then by {@link fromWire}. Errors name the
 * field under `field`, e.g. `pages[2].characters[5].box.width`.
 */
export function pagesFromJson(json: unknown, field: string, maxCharacters = defaultMaxCharactersPerPage): WirePage[] {
  const list = Array.isArray(json) ? json : isObject(json) ? json['pages'] : undefined;
  if (!Array.isArray(list)) {
    throw new ValidationError(field, 'expected a JSON array of PagePredictions or {"pages": [...]}');
  }
  checker ??= new ProtoJsonChecker([kzrProtoFiles.postprocess, kzrProtoFiles.inference], protoRoot, 'kzr.v1');
  return list.map((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(item)) throw new ValidationError(at, 'expected a PagePredictions object');
    // `kzr recognize` prints RecognizePageResponse pages: the same page and characters, with the
    // versions that served them and the page's text beside them.
    if (recognitionFields.some((name) => name in item)) {
      checker!.check('RecognizePageResponse', item, at);
      const page = Object.fromEntries(Object.entries(item).filter(([name]) => !recognitionFields.includes(name)));
      return fromWire(PagePredictions.fromJSON(page), at, maxCharacters);
    }
    checker!.check('PagePredictions', item, at);
    return fromWire(PagePredictions.fromJSON(item), at, maxCharacters);
  });
}

/** Fields of a RecognizePageResponse that a PagePredictions does not have. */
const recognitionFields: readonly string[] = ['servedBy', 'filterVersion', 'text', 'kaggleLabels'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
