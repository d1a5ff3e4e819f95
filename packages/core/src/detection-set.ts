/**
 * Detection sets: the boxes one detector (or one checkpoint of it) found on a set of pages, in
 * the JSON form documented in `packages/core/README.md`:
 *
 * ```json
 * {"version": 1, "name": "det-060000", "pages": [{"pageId": "...", "width": 1000, "height": 1500,
 *   "detections": [{"x": 10, "y": 20, "width": 30, "height": 40, "score": 0.98}]}]}
 * ```
 *
 * Boxes are in page pixels (left, top, width, height; fractions allowed), `score` is the
 * detector's confidence. Parsing is strict: unknown keys, missing keys and wrong types are errors
 * naming the field path (`pages[2].detections[5].score`).
 */
import { ParseError } from './errors.js';
import { isPageId } from './kaggle-csv.js';

/** Current (and only) version of the detection-set JSON. */
export const DETECTION_SET_VERSION = 1;

/** One detected box in page pixels, with the detector's score. */
export interface Detection {
  /** Left edge, pixels. */
  x: number;
  /** Top edge, pixels. */
  y: number;
  /** Width, pixels (>= 0). */
  width: number;
  /** Height, pixels (>= 0). */
  height: number;
  /** Detector confidence (finite; usually in [0, 1]). */
  score: number;
}

/** The detections of one page and the page's size in pixels. */
export interface PageDetections {
  pageId: string;
  /** Page width, pixels (positive integer). */
  width: number;
  /** Page height, pixels (positive integer). */
  height: number;
  detections: Detection[];
}

/** One named result set over many pages (for example one detector checkpoint). */
export interface DetectionSet {
  version: 1;
  /** The set's name, for example `det-060000` (non-empty). */
  name: string;
  pages: PageDetections[];
}

type Where = { file: string | undefined; field: string; line?: number | undefined };

function fail(where: Where, problem: string): never {
  throw new ParseError(where, problem);
}

function expectObject(value: unknown, where: Where, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'expected an object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) fail({ ...where, field: join(where.field, key) }, 'unknown key');
  }
  for (const key of keys) {
    if (!(key in record)) fail({ ...where, field: join(where.field, key) }, 'is missing');
  }
  return record;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function expectNumber(value: unknown, where: Where, check?: (n: number) => string | undefined): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(where, `expected a finite number, got ${JSON.stringify(value)}`);
  const problem = check?.(value);
  if (problem !== undefined) fail(where, problem);
  return value;
}

const nonNegative = (n: number): string | undefined => (n >= 0 ? undefined : `expected >= 0, got ${n}`);
const positiveInteger = (n: number): string | undefined =>
  Number.isSafeInteger(n) && n > 0 ? undefined : `expected a positive integer, got ${n}`;

function lineOfJsonError(text: string, err: unknown): number | undefined {
  const match = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  if (!match) return undefined;
  const position = Number(match[1]);
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Validates a decoded value as a {@link DetectionSet} and returns a clean copy. */
export function toDetectionSet(value: unknown, file?: string): DetectionSet {
  const top = expectObject(value, { file, field: '' }, ['version', 'name', 'pages']);
  if (top['version'] !== DETECTION_SET_VERSION) {
    fail({ file, field: 'version' }, `expected ${DETECTION_SET_VERSION}, got ${JSON.stringify(top['version'])}`);
  }
  const name = top['name'];
  if (typeof name !== 'string' || name === '') fail({ file, field: 'name' }, 'expected a non-empty string');
  const pagesValue = top['pages'];
  if (!Array.isArray(pagesValue)) fail({ file, field: 'pages' }, 'expected an array');
  const seen = new Set<string>();
  const pages = pagesValue.map((pageValue: unknown, p): PageDetections => {
    const base = `pages[${p}]`;
    const page = expectObject(pageValue, { file, field: base }, ['pageId', 'width', 'height', 'detections']);
    const pageId = page['pageId'];
    if (typeof pageId !== 'string' || !isPageId(pageId)) {
      fail({ file, field: `${base}.pageId` }, `invalid page id ${JSON.stringify(pageId)}`);
    }
    if (seen.has(pageId)) fail({ file, field: `${base}.pageId` }, `page "${pageId}" appears again`);
    seen.add(pageId);
    const width = expectNumber(page['width'], { file, field: `${base}.width` }, positiveInteger);
    const height = expectNumber(page['height'], { file, field: `${base}.height` }, positiveInteger);
    const list = page['detections'];
    if (!Array.isArray(list)) fail({ file, field: `${base}.detections` }, 'expected an array');
    const detections = list.map((detValue: unknown, d): Detection => {
      const at = `${base}.detections[${d}]`;
      const det = expectObject(detValue, { file, field: at }, ['x', 'y', 'width', 'height', 'score']);
      return {
        x: expectNumber(det['x'], { file, field: `${at}.x` }),
        y: expectNumber(det['y'], { file, field: `${at}.y` }),
        width: expectNumber(det['width'], { file, field: `${at}.width` }, nonNegative),
        height: expectNumber(det['height'], { file, field: `${at}.height` }, nonNegative),
        score: expectNumber(det['score'], { file, field: `${at}.score` }),
      };
    });
    return { pageId, width, height, detections };
  });
  return { version: DETECTION_SET_VERSION, name, pages };
}

/** Parses detection-set JSON strictly (see the module comment for the schema). */
export function parseDetectionSet(text: string, file?: string): DetectionSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ParseError(
      { file, line: lineOfJsonError(text, err), field: 'json' },
      `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
  return toDetectionSet(value, file);
}

/**
 * Writes a detection set as JSON: validated first, keys in schema order, one page per line,
 * final newline. Same input, same bytes.
 */
export function formatDetectionSet(set: DetectionSet): string {
  const clean = toDetectionSet(set);
  const pages = clean.pages.map((page) =>
    JSON.stringify({
      pageId: page.pageId,
      width: page.width,
      height: page.height,
      detections: page.detections.map((d) => ({ x: d.x, y: d.y, width: d.width, height: d.height, score: d.score })),
    }),
  );
  const head = `{"version":${clean.version},"name":${JSON.stringify(clean.name)},"pages":[`;
  return pages.length === 0 ? `${head}]}\n` : `${head}\n${pages.join(',\n')}\n]}\n`;
}
