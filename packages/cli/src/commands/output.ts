/**
 * Writing the output files of the commands: the output's folder is checked before any work (so a
 * typo in `--out` costs nothing), and a file is written to a temporary name and renamed, so a
 * failure or a kill leaves no partial file. Errors are {@link UsageError}s naming the flag.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { UsageError } from '../args.js';

/** Throws a {@link UsageError} on `field` unless the folder `path` goes into exists. */
export async function checkOutputPath(path: string, field: string): Promise<void> {
  const folder = dirname(path);
  const info = await stat(folder).catch(() => undefined);
  if (info === undefined) throw new UsageError(field, `cannot write ${path}: the folder ${folder} does not exist`);
  if (!info.isDirectory()) throw new UsageError(field, `cannot write ${path}: ${folder} is not a folder`);
}

/** The temporary name of `path` while this process writes it. */
export function stagingPath(path: string): string {
  return `${path.replace(/\/+$/, '')}.partial-${process.pid}`;
}

/** Staging older than this is removed even when a process of its pid runs (the pid may be reused). */
const staleStagingMs = 24 * 3600 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what killed runs left next to `path`: `<path>.partial-<pid>` files or folders whose
 * process is gone, or that are older than a day. Returns the paths removed.
 */
export async function sweepStaging(path: string): Promise<string[]> {
  const base = path.replace(/\/+$/, '');
  const folder = dirname(base);
  const prefix = `${basename(base)}.partial-`;
  const removed: string[] = [];
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) continue;
    const leftover = join(folder, name);
    const info = await stat(leftover).catch(() => undefined);
    if (info === undefined) continue;
    if (processAlive(pid) && Date.now() - info.mtimeMs < staleStagingMs) continue;
    await rm(leftover, { recursive: true, force: true });
    removed.push(leftover);
  }
  return removed;
}

/**
 * Writes `data` to `path` whole (temporary file, then rename), after sweeping what killed runs
 * left; a failure is a {@link UsageError} on `field`.
 */
export async function writeOutput(path: string, data: string | Uint8Array, field: string): Promise<void> {
  await sweepStaging(path);
  const tmp = stagingPath(path);
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

/**
 * Creates the folder `path` and the missing folders above it, one level at a time; a failure is a
 * {@link UsageError} on `field`. Node's recursive `mkdir` spins for ever where a parent refuses
 * new entries with ENOENT (`/proc/x`), so it is not used on paths from the command line.
 */
export async function makeFolder(path: string, field: string): Promise<void> {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    const info = await stat(at).catch(() => undefined);
    if (info !== undefined) {
      if (!info.isDirectory()) throw new UsageError(field, `cannot create ${path}: ${at} is not a folder`);
      break;
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new UsageError(field, `cannot create ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
}
