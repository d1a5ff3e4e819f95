/**
 * NumPy `.npz` reader: a ZIP archive of `.npy` members, stored (`np.savez`) or deflated
 * (`np.savez_compressed`), with ZIP64 sizes. KMNIST and Kuzushiji-49 ship one array, `arr_0`.
 */
import { readFile } from 'node:fs/promises';

import { DataFormatError, DataLimitError } from './errors.js';
import { parseNpy, type NpyArray } from './npy.js';
import { listZipEntries, readZipEntry } from './zip.js';

/** Default of {@link NpzOptions.maxBytes}: 1 GiB (Kuzushiji-49's largest array is 182 MB). */
export const defaultMaxNpzBytes = 2 ** 30;

/** Options of {@link parseNpz}. */
export interface NpzOptions {
  /**
   * Most bytes the members may decompress to, together, checked against their declared sizes
   * before any is inflated (a 1 MB zip bomb declaring gigabytes is refused at once).
   * @default {@link defaultMaxNpzBytes}
   */
  readonly maxBytes?: number;
  /** Name of the limit in the error, as the caller lets it be set. @default 'maxBytes' */
  readonly limitName?: string;
}

/**
 * Decodes every array of an npz archive held in memory, keyed by member name without `.npy`
 * (`arr_0`), in archive order.
 *
 * @param file - name used in error messages.
 * @throws DataFormatError when the archive or one of its arrays is malformed, or it holds no
 *   array; DataLimitError when its members declare more than `maxBytes`.
 */
export function parseNpz(buf: Buffer, file = '<buffer>', options: NpzOptions = {}): Map<string, NpyArray> {
  const maxBytes = options.maxBytes ?? defaultMaxNpzBytes;
  const entries = listZipEntries(buf, file);
  const declared = entries.reduce((sum, entry) => sum + entry.uncompressedBytes, 0);
  if (declared > maxBytes) {
    throw new DataLimitError(file, 'zip', `members of ${declared} bytes`, options.limitName ?? 'maxBytes', maxBytes);
  }
  const arrays = new Map<string, NpyArray>();
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    if (!entry.name.endsWith('.npy')) {
      throw new DataFormatError(file, `zip.${entry.name}`, 'npz members must be .npy files');
    }
    const name = entry.name.slice(0, -'.npy'.length);
    if (arrays.has(name)) throw new DataFormatError(file, `zip.${entry.name}`, 'duplicate member');
    arrays.set(name, parseNpy(readZipEntry(buf, entry, file), `${file}:${entry.name}`));
  }
  if (arrays.size === 0) throw new DataFormatError(file, 'zip', 'holds no .npy member');
  return arrays;
}

/** Reads and decodes an npz file (see {@link parseNpz}). */
export async function readNpz(path: string, options: NpzOptions = {}): Promise<Map<string, NpyArray>> {
  return parseNpz(await readFile(path), path, options);
}
