/**
 * CODH coordinate CSV (the Kuzushiji dataset's per-book `<book>_coordinate.csv`, or the rows of
 * one page of it): header `Unicode,Image,X,Y,Block ID,Char ID,Width,Height`, X/Y the top-left
 * corner in page pixels. Rows are in reading order. {@link codhToPageLabels} converts them to
 * the Kaggle form.
 */
import { expectHeader, isUnicodeCode, parseIntField, splitFields, splitLines } from './csv-text.js';
import { ParseError } from './errors.js';
import { isPageId, type PageLabels } from './kaggle-csv.js';

/** The header line of a CODH coordinate CSV. */
export const CODH_HEADER = 'Unicode,Image,X,Y,Block ID,Char ID,Width,Height';

/** One row of a CODH coordinate file. */
export interface CodhChar {
  code: string;
  /** The page (`Image` column), for example `100241706_00004_2`. */
  pageId: string;
  x: number;
  y: number;
  /** Text block id, for example `B0001`. */
  blockId: string;
  /** Character id in reading order within the page, for example `C0001`. */
  charId: string;
  width: number;
  height: number;
}

const names = ['Unicode', 'Image', 'X', 'Y', 'Block ID', 'Char ID', 'Width', 'Height'] as const;

/** Parses a CODH coordinate CSV strictly; rows keep the file's order. */
export function parseCodhCoordinates(text: string, file?: string): CodhChar[] {
  return expectHeader(splitLines(text, file), CODH_HEADER, file).map((entry) => {
    const f = splitFields(entry, 8, names, file);
    const at = (field: string): { file: string | undefined; line: number; field: string } => ({
      file,
      line: entry.line,
      field,
    });
    const [code = '', pageId = '', x = '', y = '', blockId = '', charId = '', width = '', height = ''] = f;
    if (!isUnicodeCode(code)) throw new ParseError(at('Unicode'), `expected a code such as U+3042, got "${code}"`);
    if (!isPageId(pageId)) throw new ParseError(at('Image'), `invalid page id "${pageId}"`);
    if (blockId === '') throw new ParseError(at('Block ID'), 'is empty');
    if (charId === '') throw new ParseError(at('Char ID'), 'is empty');
    return {
      code,
      pageId,
      x: parseIntField(x, at('X'), 0),
      y: parseIntField(y, at('Y'), 0),
      blockId,
      charId,
      width: parseIntField(width, at('Width'), 1),
      height: parseIntField(height, at('Height'), 1),
    };
  });
}

/**
 * Groups CODH rows into Kaggle pages: pages in order of first appearance, characters in row
 * order (the CODH reading order).
 */
export function codhToPageLabels(chars: readonly CodhChar[]): PageLabels[] {
  const pages = new Map<string, PageLabels>();
  for (const c of chars) {
    let page = pages.get(c.pageId);
    if (page === undefined) {
      page = { pageId: c.pageId, labels: [] };
      pages.set(c.pageId, page);
    }
    page.labels.push({ code: c.code, x: c.x, y: c.y, width: c.width, height: c.height });
  }
  return [...pages.values()];
}
