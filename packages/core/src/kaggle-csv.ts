/**
 * The Kaggle Kuzushiji Recognition CSV formats (spec §1.1): `train.csv` with 5-tuples
 * `U+XXXX x y w h` per page, and the submission CSV with 3-tuples `U+XXXX cx cy`. Both have the
 * header `image_id,labels`; a page with no characters has an empty `labels` field.
 */
import { expectHeader, isUnicodeCode, parseIntField, parseNumberField, splitFields, splitLines } from './csv-text.js';
import { InvalidArgumentError, ParseError } from './errors.js';

/** One labelled character: its code (`U+3042`) and its box, integer pixels of the original page. */
export interface CharLabel {
  /** Unicode code point label, `U+` and 4 to 6 upper-case hex digits. */
  code: string;
  /** Left edge, pixels. */
  x: number;
  /** Top edge, pixels. */
  y: number;
  /** Box width, pixels. */
  width: number;
  /** Box height, pixels. */
  height: number;
}

/** The labels of one page, in the file's order (the order the metric matches truths in). */
export interface PageLabels {
  pageId: string;
  labels: CharLabel[];
}

/** One predicted character of a submission: its code and its centre point in page pixels. */
export interface CharPoint {
  code: string;
  /** Centre x, pixels (integer in Kaggle submissions; fractions are accepted). */
  x: number;
  /** Centre y, pixels. */
  y: number;
}

/** The predictions of one page, in the file's order (the metric uses the first unused match). */
export interface PagePredictions {
  pageId: string;
  points: CharPoint[];
}

/** The header line of `train.csv` and of a submission. */
export const KAGGLE_HEADER = 'image_id,labels';

const pageIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** True for a page id that can appear in the Kaggle files (letters, digits, `_`, `-`, `.`). */
export function isPageId(value: string): boolean {
  return pageIdPattern.test(value);
}

/**
 * Returns `value` when it is a page id ({@link isPageId}); throws an {@link InvalidArgumentError}
 * naming `field` otherwise (so `..`, `a/b`, `,`, spaces, quotes and control characters never
 * reach a key or a CSV).
 */
export function requirePageId(field: string, value: string): string {
  if (isPageId(value)) return value;
  throw new InvalidArgumentError(
    field,
    `expected a page id of letters, digits, '_', '-' or '.' (starting with a letter or digit), got ${JSON.stringify(value)}`,
  );
}

function parseRows(
  text: string,
  file: string | undefined,
  tupleSize: number,
  tupleNames: string,
): Array<{ pageId: string; tokens: string[]; line: number }> {
  const rows = expectHeader(splitLines(text, file), KAGGLE_HEADER, file);
  const seen = new Map<string, number>();
  return rows.map((entry) => {
    const [pageId = '', labels = ''] = splitFields(entry, 2, ['image_id', 'labels'], file);
    if (!isPageId(pageId)) {
      throw new ParseError({ file, line: entry.line, field: 'image_id' }, `invalid page id "${pageId}"`);
    }
    const previous = seen.get(pageId);
    if (previous !== undefined) {
      throw new ParseError(
        { file, line: entry.line, field: 'image_id' },
        `page "${pageId}" appears again (first on line ${previous})`,
      );
    }
    seen.set(pageId, entry.line);
    const tokens = labels === '' ? [] : labels.split(' ');
    if (tokens.some((token) => token === '')) {
      throw new ParseError({ file, line: entry.line, field: 'labels' }, 'tokens must be separated by single spaces');
    }
    if (tokens.length % tupleSize !== 0) {
      throw new ParseError(
        { file, line: entry.line, field: 'labels' },
        `expected groups of ${tupleSize} tokens (${tupleNames}), got ${tokens.length} tokens`,
      );
    }
    return { pageId, tokens, line: entry.line };
  });
}

function parseCode(token: string, where: { file: string | undefined; line: number; field: string }): string {
  if (!isUnicodeCode(token)) throw new ParseError(where, `expected a code such as U+3042, got "${token}"`);
  return token;
}

/** Where a field of the k-th label of a row is, for errors (`labels[k].<name>`). */
function labelFieldAt(
  file: string | undefined,
  line: number,
  k: number,
): (name: string) => { file: string | undefined; line: number; field: string } {
  return (name) => ({ file, line, field: `labels[${k}].${name}` });
}

/**
 * Parses `train.csv` strictly: the exact header, one row per page (ids unique), 5-tuples with
 * integer coordinates (x, y >= 0; width, height >= 1). Errors name the file, line and field
 * (`labels[k].width` for the k-th character, 0-based).
 */
export function parseTrainCsv(text: string, file?: string): PageLabels[] {
  return parseRows(text, file, 5, 'U+XXXX x y w h').map(({ pageId, tokens, line }) => {
    const labels: CharLabel[] = [];
    for (let i = 0; i < tokens.length; i += 5) {
      const at = labelFieldAt(file, line, i / 5);
      labels.push({
        code: parseCode(tokens[i]!, at('code')),
        x: parseIntField(tokens[i + 1]!, at('x'), 0),
        y: parseIntField(tokens[i + 2]!, at('y'), 0),
        width: parseIntField(tokens[i + 3]!, at('width'), 1),
        height: parseIntField(tokens[i + 4]!, at('height'), 1),
      });
    }
    return { pageId, labels };
  });
}

function checkPageIdForWrite(pageId: string, field: string): void {
  if (!isPageId(pageId)) throw new ParseError({ field }, `invalid page id "${pageId}"`);
}

/** Writes `train.csv` (header, LF line ends, final newline); the inverse of {@link parseTrainCsv}. */
export function formatTrainCsv(pages: readonly PageLabels[]): string {
  const lines = [KAGGLE_HEADER];
  pages.forEach((page, p) => {
    checkPageIdForWrite(page.pageId, `pages[${p}].pageId`);
    const tokens = page.labels.map((c, k) => {
      if (!isUnicodeCode(c.code))
        throw new ParseError({ field: `pages[${p}].labels[${k}].code` }, `invalid code "${c.code}"`);
      for (const name of ['x', 'y', 'width', 'height'] as const) {
        const value = c[name];
        const min = name === 'width' || name === 'height' ? 1 : 0;
        if (!Number.isSafeInteger(value) || value < min) {
          throw new ParseError(
            { field: `pages[${p}].labels[${k}].${name}` },
            `expected an integer >= ${min}, got ${value}`,
          );
        }
      }
      return `${c.code} ${c.x} ${c.y} ${c.width} ${c.height}`;
    });
    lines.push(`${page.pageId},${tokens.join(' ')}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Parses a submission CSV strictly: the exact header, unique page ids, 3-tuples `U+XXXX cx cy`
 * with numeric centres. Errors name the file, line and field (`labels[k].x`).
 */
export function parseSubmissionCsv(text: string, file?: string): PagePredictions[] {
  return parseRows(text, file, 3, 'U+XXXX cx cy').map(({ pageId, tokens, line }) => {
    const points: CharPoint[] = [];
    for (let i = 0; i < tokens.length; i += 3) {
      const at = labelFieldAt(file, line, i / 3);
      points.push({
        code: parseCode(tokens[i]!, at('code')),
        x: parseNumberField(tokens[i + 1]!, at('x')),
        y: parseNumberField(tokens[i + 2]!, at('y')),
      });
    }
    return { pageId, points };
  });
}

/** Writes a submission CSV (header, one row per page in the given order, LF, final newline). */
export function formatSubmissionCsv(pages: readonly PagePredictions[]): string {
  const lines = [KAGGLE_HEADER];
  pages.forEach((page, p) => {
    checkPageIdForWrite(page.pageId, `pages[${p}].pageId`);
    const tokens = page.points.map((point, k) => {
      if (!isUnicodeCode(point.code)) {
        throw new ParseError({ field: `pages[${p}].points[${k}].code` }, `invalid code "${point.code}"`);
      }
      for (const name of ['x', 'y'] as const) {
        if (!Number.isFinite(point[name])) {
          throw new ParseError(
            { field: `pages[${p}].points[${k}].${name}` },
            `expected a finite number, got ${point[name]}`,
          );
        }
      }
      return `${point.code} ${point.x} ${point.y}`;
    });
    lines.push(`${page.pageId},${tokens.join(' ')}`);
  });
  return `${lines.join('\n')}\n`;
}
