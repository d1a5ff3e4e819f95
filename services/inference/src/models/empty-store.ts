/** A Store with no objects, for a registry that has nothing to load (read-only; writes fail). */
import { type Readable } from 'node:stream';

import { NotFoundError, NotReadyError, type ObjectInfo, type PutResult, type Store } from '@kzr/platform';

/** Every read is NOT_FOUND, listings are empty, writes are refused. */
export const emptyStore: Store = {
  kind: 'fs',
  put: (): Promise<PutResult> => Promise.reject(new NotReadyError('no Store is configured for inference')),
  get: (key: string): Promise<Readable> => Promise.reject(new NotFoundError(`object ${key}`)),
  getBytes: (key: string): Promise<Buffer> => Promise.reject(new NotFoundError(`object ${key}`)),
  stat: (key: string): Promise<ObjectInfo> => Promise.reject(new NotFoundError(`object ${key}`)),
  list: (): Promise<ObjectInfo[]> => Promise.resolve([]),
  delete: (): Promise<void> => Promise.resolve(),
  close: (): Promise<void> => Promise.resolve(),
  [Symbol.asyncDispose]: (): Promise<void> => Promise.resolve(),
};
