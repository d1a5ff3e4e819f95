/**
 * Reading classified pages for the postprocess commands: a JSON file holding an array of
 * `kzr.v1.PagePredictions` (proto3 JSON) or `{"pages": [...]}`, as `kzr recognize` writes it,
 * parsed strictly (postprocess's `pagesFromJson`).
 */
import { KzrError } from '@kzr/core';
import { pagesFromJson, type WirePage } from '@kzr/postprocess';

import { UsageError } from '../args.js';
import { readTextInput } from './read-text.js';

/** The pages of `path`; a file that is not such JSON is a {@link UsageError} on `field` naming the file. */
export async function readPredictionPages(path: string, field: string): Promise<WirePage[]> {
  let json: unknown;
  const text = await readTextInput(path, field);
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(field, `${path} is not JSON: ${(err as Error).message}`);
  }
  try {
    return pagesFromJson(json, 'pages');
  } catch (err) {
    if (err instanceof KzrError) throw new UsageError(field, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
