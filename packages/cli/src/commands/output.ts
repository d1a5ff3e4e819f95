/**
 * Writing the output files of the commands: the output's folder is checked before any work (so a
 * typo in `--out` costs nothing), and a file is written to a temporary name and renamed, so a
 * failure or a kill leaves no partial file. Errors are {@link UsageError}s naming the flag.
 */
import { stat, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { UsageError } from '../args.js';

/** Throws a {@link UsageError} on `field` unless the folder `path` goes into exists. */
export async function checkOutputPath(path: string, field: string): Promise<void> {
  const folder = dirname(path);
  const info = await stat(folder).catch(() => undefined);
  if (info === undefined) throw new UsageError(field, `cannot write ${path}: the folder ${folder} does not exist`);
  if (!info.isDirectory()) throw new UsageError(field, `cannot write ${path}: ${folder} is not a folder`);
}

/** Writes `data` to `path` whole (temporary file, then rename); a failure is a {@link UsageError} on `field`. */
export async function writeOutput(path: string, data: string | Uint8Array, field: string): Promise<void> {
  const tmp = `${path}.partial-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new UsageError(field, `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    });
  }
}
