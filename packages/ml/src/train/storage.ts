/**
 * Where checkpoints go: a small key → bytes interface, so the trainer runs against a directory
 * now and against the platform Store (S3 / filesystem) through a thin adapter in the caller.
 * Keys are `/`-separated relative paths (`epoch-0003/weights.bin`).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** Minimal object storage for checkpoints and training reports. */
export interface CheckpointStorage {
  /** Writes an object; it becomes visible only complete. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Reads an object, or undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** A human-readable location, for logs. */
  readonly location: string;
}

/** {@link CheckpointStorage} in a directory: temporary file then rename, so readers never see half a file. */
export function directoryStorage(root: string): CheckpointStorage {
  return {
    location: root,
    async put(key, bytes) {
      const path = join(root, ...key.split('/'));
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${randomUUID()}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(join(root, ...key.split('/'))));
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  };
}
