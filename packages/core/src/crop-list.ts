/**
 * Crop-list CSVs (spec §1.3): no header, two columns `label,path`, one crop per line, as
 * `train_characters.csv`, `denoised_train_<book>.csv`, `denoised_valid_<book>.csv` and
 * `pseudo_images.csv`. Duplicated rows are meaningful (oversampling) and kept.
 */
import { isUnicodeCode, splitFields, splitLines } from './csv-text.js';
import { ParseError } from './errors.js';

/** One crop: its class code and the path of its image. */
export interface CropEntry {
  code: string;
  path: string;
}

/** Parses a crop list strictly (no header; a code and a non-empty path per line). */
export function parseCropList(text: string, file?: string): CropEntry[] {
  return splitLines(text, file).map((entry) => {
    const [code = '', path = ''] = splitFields(entry, 2, ['label', 'path'], file);
    if (!isUnicodeCode(code)) {
      throw new ParseError({ file, line: entry.line, field: 'label' }, `expected a code such as U+3042, got "${code}"`);
    }
    if (path === '') throw new ParseError({ file, line: entry.line, field: 'path' }, 'is empty');
    return { code, path };
  });
}

/** Writes a crop list (no header, LF, final newline; an empty list is the empty string). */
export function formatCropList(entries: readonly CropEntry[]): string {
  return entries
    .map((entry, i) => {
      if (!isUnicodeCode(entry.code)) throw new ParseError({ field: `[${i}].label` }, `invalid code "${entry.code}"`);
      if (entry.path === '' || /[,\n\r"]/.test(entry.path)) {
        throw new ParseError({ field: `[${i}].path` }, `path cannot be written: ${JSON.stringify(entry.path)}`);
      }
      return `${entry.code},${entry.path}\n`;
    })
    .join('');
}
