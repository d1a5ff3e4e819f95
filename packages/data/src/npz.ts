/**
 * NumPy `.npz` reader: a ZIP archive of `.npy` members, stored (`np.savez`) or deflated
 * (`np.savez_compressed`), with ZIP64 sizes. KMNIST and Kuzushiji-49 ship one array, `arr_0`.
 */
import { readFile } from 'node:fs/promises';

import { DataFormatError } from './errors.js';
import { parseNpy, type NpyArray } from './npy.js';
import { listZipEntries, readZipEntry } from './zip.js';

/**
 * Decodes every array of an npz archive held in memory, keyed by member name without `.npy`
 * (`arr_0`), in archive order.
 *
 * @param file - name used in error messages.
 * @throws DataFormatError when the archive or one of its arrays is malformed, or it holds no array.
 */
export function parseNpz(buf: Buffer, file = '<buffer>'): Map<string, NpyArray> {
  const arrays = new Map<string, NpyArray>();
  for (const entry of listZipEntries(buf, file)) {
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
export async function readNpz(path: string): Promise<Map<string, NpyArray>> {
  return parseNpz(await readFile(path), path);
}
