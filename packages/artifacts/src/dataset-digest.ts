/**
 * The digest of a stored dataset: the external input of a run's preprocess phase (pipeline's
 * `ExternalInput.Dataset`), fixed in `run.json` when the run is created. It covers every object
 * under `datasets/<dataset>/` (pages, labels, translation table, detection sets), so changing,
 * adding or removing any of them changes it, and with it every phase's input hash.
 */
import { createHash } from 'node:crypto';

import { NotFoundError, type Store } from '@kzr/platform';

import { datasetLabelsKey, datasetPrefix } from './keys.js';

/**
 * sha256 over `<key relative to the dataset's folder>:<sha256 of the object>` lines, in key
 * order. An object stored without a recorded sha256 is read and hashed. NotFoundError when the
 * dataset has no labels (it was never ingested).
 */
export async function datasetDigest(store: Store, dataset: string): Promise<string> {
  const prefix = datasetPrefix(dataset);
  try {
    await store.stat(datasetLabelsKey(dataset));
  } catch (err) {
    throw err instanceof NotFoundError ? new NotFoundError(`dataset "${dataset}"`, { cause: err }) : err;
  }
  const digest = createHash('sha256');
  for (const info of await store.list(prefix)) {
    const sha256 =
      info.sha256 ||
      createHash('sha256')
        .update(await store.getBytes(info.key))
        .digest('hex');
    digest.update(`${info.key.slice(prefix.length)}:${sha256}\n`);
  }
  return digest.digest('hex');
}
