/**
 * Reading the text inputs of the commands: a file that cannot be read becomes a
 * {@link UsageError} naming the flag (exit 2), never a stack trace.
 */
import { readFile } from 'node:fs/promises';

import { CODH_HEADER, codhToPageLabels, type PageLabels, parseCodhCoordinates, parseTrainCsv } from '@kzr/core';

import { UsageError } from '../args.js';

/** Reads a UTF-8 file named by `field` (a flag such as `--labels`, or `<page-id-list>`). */
export async function readTextInput(path: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(field, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * Reads labelled pages named by `field`: a Kaggle train.csv, or a CODH coordinate CSV (told
 * apart by its header line), whose characters become the same {@link PageLabels}.
 */
export async function readLabelsInput(path: string, field: string): Promise<PageLabels[]> {
  const text = await readTextInput(path, field);
  const header = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')).replace(/\r$/, '');
  if (header.replace(/^\uFEFF/, '') === CODH_HEADER) return codhToPageLabels(parseCodhCoordinates(text, path));
  return parseTrainCsv(text, path);
}
