/**
 * Line handling shared by the CSV formats (internal). The Kaggle files are plain comma-separated
 * text without quoting; LF or CRLF line ends, a final newline optional, a UTF-8 BOM tolerated.
 */
import { ParseError } from './errors.js';

/** One non-empty line with its 1-based number. */
export interface NumberedLine {
  readonly text: string;
  readonly line: number;
}

/** Splits text into lines; a blank line anywhere but at the very end is an error. */
export function splitLines(text: string, file: string | undefined): NumberedLine[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const raw = body.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((value, index) => {
    const line = index + 1;
    const clean = value.endsWith('\r') ? value.slice(0, -1) : value;
    if (clean === '') throw new ParseError({ file, line, field: 'line' }, 'blank line');
    if (clean.includes('"'))
      throw new ParseError({ file, line, field: 'line' }, 'quoted fields are not part of this format');
    return { text: clean, line };
  });
}

/** Checks the first line equals `header` exactly and returns the data lines. */
export function expectHeader(lines: NumberedLine[], header: string, file: string | undefined): NumberedLine[] {
  const first = lines[0];
  if (first === undefined) throw new ParseError({ file, line: 1, field: 'header' }, `missing header "${header}"`);
  if (first.text !== header) {
    throw new ParseError({ file, line: 1, field: 'header' }, `expected "${header}", got "${first.text}"`);
  }
  return lines.slice(1);
}

/** Splits a line into exactly `count` comma-separated fields. */
export function splitFields(
  entry: NumberedLine,
  count: number,
  names: readonly string[],
  file: string | undefined,
): string[] {
  const fields = entry.text.split(',');
  if (fields.length !== count) {
    throw new ParseError(
      { file, line: entry.line, field: fields.length < count ? (names[fields.length] ?? 'line') : 'line' },
      `expected ${count} comma-separated fields (${names.join(',')}), got ${fields.length}`,
    );
  }
  return fields;
}

const unicodeCode = /^U\+(?:[0-9A-F]{4,5}|10[0-9A-F]{4})$/;

/** True for a code such as `U+3042` or `U+2000B` (upper-case hex, 4 to 6 digits, at most U+10FFFF). */
export function isUnicodeCode(value: string): boolean {
  return unicodeCode.test(value);
}

/** Reads a non-negative (or, with `allowNegative`, any) decimal integer written without sign or padding tricks. */
export function parseIntField(
  value: string,
  where: { file: string | undefined; line: number; field: string },
  min: number,
): number {
  if (!/^-?\d+$/.test(value)) throw new ParseError(where, `expected an integer, got "${value}"`);
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new ParseError(where, `integer out of range: "${value}"`);
  if (parsed < min) throw new ParseError(where, `expected an integer >= ${min}, got ${parsed}`);
  return parsed;
}

/** Reads a decimal number (integer or fraction, optional sign), finite. */
export function parseNumberField(
  value: string,
  where: { file: string | undefined; line: number; field: string },
): number {
  if (!/^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/.test(value))
    throw new ParseError(where, `expected a number, got "${value}"`);
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new ParseError(where, `number out of range: "${value}"`);
  return parsed;
}
