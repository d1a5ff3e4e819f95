/**
 * `unicode_translation.csv` (spec §1.1): header `Unicode,char`, one row per code with the
 * character it stands for. The character is not always the code point itself (`U+3007` maps to
 * `0` in the Kaggle file), so it is kept as written.
 */
import { expectHeader, isUnicodeCode, splitFields, splitLines } from './csv-text.js';
import { ParseError } from './errors.js';

/** The header line of `unicode_translation.csv`. */
export const UNICODE_TRANSLATION_HEADER = 'Unicode,char';

/** Parses `unicode_translation.csv` into a map code -> character, in file order; codes must be unique. */
export function parseUnicodeTranslation(text: string, file?: string): Map<string, string> {
  const rows = expectHeader(splitLines(text, file), UNICODE_TRANSLATION_HEADER, file);
  const map = new Map<string, string>();
  for (const entry of rows) {
    const [code = '', char = ''] = splitFields(entry, 2, ['Unicode', 'char'], file);
    if (!isUnicodeCode(code)) {
      throw new ParseError(
        { file, line: entry.line, field: 'Unicode' },
        `expected a code such as U+3042, got "${code}"`,
      );
    }
    if (char === '') throw new ParseError({ file, line: entry.line, field: 'char' }, 'is empty');
    if (map.has(code)) throw new ParseError({ file, line: entry.line, field: 'Unicode' }, `${code} appears again`);
    map.set(code, char);
  }
  return map;
}

/** Writes `unicode_translation.csv` in the map's order (header, LF, final newline). */
export function formatUnicodeTranslation(map: ReadonlyMap<string, string>): string {
  const lines = [UNICODE_TRANSLATION_HEADER];
  for (const [code, char] of map) {
    if (!isUnicodeCode(code)) throw new ParseError({ field: `Unicode` }, `invalid code "${code}"`);
    if (char === '' || char.includes(',') || char.includes('\n') || char.includes('"')) {
      throw new ParseError({ field: `char` }, `character for ${code} cannot be written: ${JSON.stringify(char)}`);
    }
    lines.push(`${code},${char}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The character of a code point label (`U+3042` -> `あ`), without a translation table. */
export function charOfCode(code: string): string {
  if (!isUnicodeCode(code)) throw new ParseError({ field: 'code' }, `invalid code "${code}"`);
  return String.fromCodePoint(Number.parseInt(code.slice(2), 16));
}

/** The code point label of a single character (`あ` -> `U+3042`, at least 4 hex digits). */
export function codeOfChar(char: string): string {
  const cp = char.codePointAt(0);
  if (cp === undefined || String.fromCodePoint(cp) !== char) {
    throw new ParseError({ field: 'char' }, `expected exactly one character, got ${JSON.stringify(char)}`);
  }
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
