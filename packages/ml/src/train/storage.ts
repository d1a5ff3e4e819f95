/**
 * Where checkpoints go: a small key → bytes interface, so the trainer runs against a directory
 * now and against the platform Store (S3 / filesystem) through a thin adapter in the caller.
 * Keys are `/`-separated relative paths (`epoch-0003/weights.bin`).
 */
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** Minimal object storage for checkpoints and training reports. */
export interface CheckpointStorage {
  /** Writes an object; it becomes visible only complete. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Reads an object, or undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Copies an existing object to another key (visible only complete), without re-sending its bytes where the storage can. */
  copy(fromKey: string, toKey: string): Promise<void>;
  /** A human-readable location, for logs. */
  readonly location: string;
}

/** {@link CheckpointStorage} in a directory: temporary file then rename, so readers never see half a file. */
export function directoryStorage(root: string): CheckpointStorage {
  const pathOf = (key: string): string => join(root, ...key.split('/'));
  /** Writes to a temporary file beside `key`'s path, then renames it into place. */
  const replace = async (key: string, write: (tmp: string) => Promise<void>): Promise<void> => {
    const path = pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    await write(tmp);
    await rename(tmp, path);
  };
  return {
    location: root,
    put: (key, bytes) => replace(key, (tmp) => writeFile(tmp, bytes)),
    copy: (fromKey, toKey) => replace(toKey, (tmp) => copyFile(pathOf(fromKey), tmp)),
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  };
}
