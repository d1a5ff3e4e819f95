/**
 * Checkpoint storage on the platform Store: packages/ml's small key → bytes interface
 * (`CheckpointStorage`), every key under one prefix (a run's `runs/<run>/<phase>/<model>/`), so
 * the trainer writes checkpoints and reports into the Store exactly as into a directory. Copies
 * (the best checkpoint) are the Store's own copy: server-side on S3.
 */
import type { CheckpointStorage } from '@kzr/ml';
import { NotFoundError, type Store } from '@kzr/platform';

import { checkRelativeKey } from './keys.js';

/** {@link CheckpointStorage} over `store`, every key under `prefix` (checked segment by segment). */
export function storeCheckpointStorage(store: Store, prefix: string): CheckpointStorage {
  const base = checkRelativeKey('prefix', prefix.replace(/\/+$/, ''));
  const key = (k: string): string => `${base}/${checkRelativeKey('key', k)}`;
  return {
    location: `store:${base}`,
    async put(k, bytes) {
      await store.put(key(k), bytes);
    },
    async get(k) {
      try {
        return new Uint8Array(await store.getBytes(key(k)));
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    async copy(from, to) {
      await store.copy(key(from), key(to));
    },
  };
}
