/**
 * Reading classified pages for the postprocess commands: a JSON file holding an array of
 * `kzr.v1.PagePredictions` (proto3 JSON) or `{"pages": [...]}`, as `kzr recognize` writes it.
 */
import { PagePredictions } from '@kzr/api/kzr/v1/postprocess';
import { fromWire, type WirePage } from '@kzr/postprocess';

import { UsageError } from '../args.js';
import { readTextInput } from './read-text.js';

/** The pages of `path`; a file that is not such JSON is a {@link UsageError} on `field`. */
export async function readPredictionPages(path: string, field: string): Promise<WirePage[]> {
  let json: unknown;
  const text = await readTextInput(path, field);
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(field, `${path} is not JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(json) ? json : (json as { pages?: unknown } | null)?.pages;
  if (!Array.isArray(list)) throw new UsageError(field, 'expected a JSON array of PagePredictions or {"pages": [...]}');
  return list.map((item, i) => fromWire(PagePredictions.fromJSON(item), `pages[${i}]`));
}
