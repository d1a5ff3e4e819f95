/** File input shared by the `kzr gbdt` and `kzr postprocess` commands. */
import { readFile } from 'node:fs/promises';

import { UsageError } from '../args.js';

/** Reads a text file named by a flag; a missing or unreadable file is a usage error naming the flag. */
export async function readFlagFile(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--${flag}`,
      `cannot read ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}
