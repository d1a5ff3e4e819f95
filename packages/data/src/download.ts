/**
 * Downloads the real Kuzushiji datasets (KMNIST, Kuzushiji-49, Kuzushiji-Kanji) from the
 * official CODH server or a mirror, verifying each file against {@link DATASET_FILES}.
 *
 * - Resume: bytes land in `<name>.part`; a later call (or an automatic retry) asks for the rest
 *   with an HTTP `Range` request and appends. A server that ignores `Range` (200) restarts it.
 * - Integrity: size, sha256 and md5 are checked where the table knows them. A mismatch discards
 *   the download and throws {@link IntegrityError}, unless `allowMismatch` keeps it.
 * - Progress: a one-line bar on stderr when stderr is a terminal.
 * - Mirror: `baseUrl` replaces the official base; the file's path below it stays the same, so a
 *   mirror is a copy of `http://codh.rois.ac.jp/kmnist/dataset/` (for example a MinIO bucket).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { IntegrityCheck, IntegrityError } from '@kzr/core';

import { DataArgumentError, DownloadError } from './errors.js';

/** The official location of the datasets (rois-codh/kmnist README). */
export const OFFICIAL_BASE_URL = 'http://codh.rois.ac.jp/kmnist/dataset/';

/** The downloadable datasets. */
export const DatasetName = {
  Kmnist: 'kmnist',
  K49: 'k49',
  Kkanji: 'kkanji',
} as const;
export type DatasetName = (typeof DatasetName)[keyof typeof DatasetName];

/** One file of a dataset with what it must look like. Unknown values are not checked. */
export interface DatasetFile {
  /** The dataset it belongs to. */
  readonly dataset: DatasetName;
  /** File name; also the name written in the destination folder. */
  readonly name: string;
  /** Path below the base URL (official or mirror). */
  readonly path: string;
  /** Size in bytes, when known. */
  readonly bytes?: number | undefined;
  /** Lowercase hex sha256, when known. */
  readonly sha256?: string | undefined;
  /** Lowercase hex md5, when known. */
  readonly md5?: string | undefined;
}

/**
 * Expected sizes and digests of the official files.
 *
 * Sources (no internet here, so none of these was recomputed by kzr): sizes and md5 of the
 * eight npz files are the git-annex keys (`MD5E-s<bytes>--<md5>`) of the `datasets-mila/datasets--kmnist`
 * mirror; the Kuzushiji-49 md5 values also match a torchvision `KMNIST49` resource list. The
 * sha256 of `kkanji.tar` comes from one third-party project's archive table; its size is not
 * published. Where a sha256 is missing, a download reports the sha256 it computed
 * ({@link DownloadResult.sha256}) so it can be pinned here.
 */
export const DATASET_FILES: readonly DatasetFile[] = [
  f('kmnist', 'kmnist-train-imgs.npz', 18_384_171, 'a183fbc01ed9a345513b145673d3d0bb'),
  f('kmnist', 'kmnist-train-labels.npz', 29_700, 'b0e1d240e8afec72b50437fc3bc5908a'),
  f('kmnist', 'kmnist-test-imgs.npz', 3_079_479, 'dace6de62ca8b90843cc45366337d02e'),
  f('kmnist', 'kmnist-test-labels.npz', 5_304, '3ae489a79983d0fe386152684e3b5412'),
  f('k49', 'k49-train-imgs.npz', 66_117_696, '7ac088b20481cf51dcd01ceaab89d821'),
  f('k49', 'k49-train-labels.npz', 164_485, '44a8e1b893f81e63ff38d73cad420f7a'),
  f('k49', 'k49-test-imgs.npz', 10_971_201, 'd352e201d846ce6b94f42c990966f374'),
  f('k49', 'k49-test-labels.npz', 27_450, '4da6f7a62e67a832d5eb1bd85c5ee448'),
  {
    dataset: 'kkanji',
    name: 'kkanji.tar',
    path: 'kkanji/kkanji.tar',
    sha256: '6c65024b7b79de6661a049c89decfddae8bb908f71fcd7fdf1bd9a7f220a1cda',
  },
];

function f(dataset: DatasetName, name: string, bytes: number, md5: string): DatasetFile {
  return { dataset, name, path: `${dataset}/${name}`, bytes, md5 };
}

/** The files of one dataset, in table order. */
export function datasetFiles(dataset: DatasetName): DatasetFile[] {
  const files = DATASET_FILES.filter((file) => file.dataset === dataset);
  if (files.length === 0) {
    throw new DataArgumentError(
      'dataset',
      `unknown dataset ${JSON.stringify(dataset)} (${Object.values(DatasetName).join(', ')})`,
    );
  }
  return files;
}

/** When to draw the progress bar. */
export const ProgressMode = {
  /** Only when the stream is a terminal. */
  Auto: 'auto',
  Always: 'always',
  Never: 'never',
} as const;
export type ProgressMode = (typeof ProgressMode)[keyof typeof ProgressMode];

/** Options of {@link downloadFile} and {@link downloadDataset}. */
export interface DownloadOptions {
  /** Folder the files are written to (created if missing). */
  readonly destDir: string;
  /**
   * Base URL of a mirror holding the same paths as the official server.
   * @default {@link OFFICIAL_BASE_URL}
   */
  readonly baseUrl?: string | undefined;
  /** Keep a file that fails a size or digest check (and report the mismatches) instead of throwing. @default false */
  readonly allowMismatch?: boolean | undefined;
  /** Automatic resumed retries after a lost connection or a 5xx answer. @default 3 */
  readonly retries?: number | undefined;
  /** Wait before the first retry, doubled each time. @default 500 */
  readonly retryDelayMs?: number | undefined;
  /** @default 'auto' */
  readonly progress?: ProgressMode | undefined;
  /** Where the progress bar goes. @default process.stderr */
  readonly progressStream?: (NodeJS.WritableStream & { isTTY?: boolean }) | undefined;
  /** Cancels the transfer; the `.part` file stays for a later resume. */
  readonly signal?: AbortSignal | undefined;
}

/** What {@link downloadFile} did. */
export interface DownloadResult {
  /** Path of the finished file. */
  readonly path: string;
  /** URL it came from. */
  readonly url: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Its sha256 (lowercase hex). */
  readonly sha256: string;
  /** Its md5 (lowercase hex). */
  readonly md5: string;
  /** True when a complete, verified file was already there and nothing was fetched. */
  readonly cached: boolean;
  /** True when at least one transfer continued a `.part` file with a Range request. */
  readonly resumed: boolean;
  /** Checks that failed but were allowed by `allowMismatch` (empty when all passed). */
  readonly mismatches: readonly IntegrityError[];
}

/** Size and digests (lowercase hex) of a file. */
interface Digests {
  readonly bytes: number;
  readonly sha256: string;
  readonly md5: string;
}

async function hashFile(path: string): Promise<Digests> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer);
    md5.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** What a thrown mismatch tells the user to do. */
const discardedHint = 'the download was discarded; use another mirror, or pass allowMismatch to keep it';

function check(spec: DatasetFile, url: string, { bytes, sha256, md5 }: Digests, hint?: string): IntegrityError[] {
  const errors: IntegrityError[] = [];
  const options = { url, hint };
  if (spec.bytes !== undefined && spec.bytes !== bytes) {
    errors.push(new IntegrityError(spec.name, IntegrityCheck.Size, String(spec.bytes), String(bytes), options));
  }
  if (spec.sha256 !== undefined && spec.sha256 !== sha256) {
    errors.push(new IntegrityError(spec.name, IntegrityCheck.Sha256, spec.sha256, sha256, options));
  }
  if (spec.md5 !== undefined && spec.md5 !== md5) {
    errors.push(new IntegrityError(spec.name, IntegrityCheck.Md5, spec.md5, md5, options));
  }
  return errors;
}

/** A single-line progress bar, redrawn at most every 100 ms. */
class ProgressBar {
  private lastDrawMs = 0;
  private readonly startMs = Date.now();
  private readonly out: NodeJS.WritableStream;
  private readonly label: string;
  private readonly total: number | undefined;

  constructor(out: NodeJS.WritableStream, label: string, total: number | undefined) {
    this.out = out;
    this.label = label;
    this.total = total;
  }

  update(done: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDrawMs < 100) return;
    this.lastDrawMs = now;
    const mb = (n: number): string => (n / 1_000_000).toFixed(1);
    const rate = done / Math.max(0.001, (now - this.startMs) / 1000);
    const width = 24;
    let bar: string;
    let tail: string;
    if (this.total !== undefined && this.total > 0) {
      const fraction = Math.min(1, done / this.total);
      const filled = Math.round(fraction * width);
      bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
      tail = `${mb(done)}/${mb(this.total)} MB`;
    } else {
      bar = `[${'?'.repeat(width)}]`;
      tail = `${mb(done)} MB`;
    }
    this.out.write(`\r${this.label} ${bar} ${tail} ${mb(rate)} MB/s\x1b[K`);
  }

  finish(done: number): void {
    this.update(done, true);
    this.out.write('\n');
  }
}

/**
 * Downloads one file into `destDir`, resuming a `.part` file left by an earlier attempt, and
 * verifies it against `spec`.
 *
 * @throws IntegrityError when a check fails (the download is removed) and `allowMismatch` is off.
 * @throws DownloadError when the server cannot be reached or answers with an error, after the retries.
 */
export async function downloadFile(spec: DatasetFile, options: DownloadOptions): Promise<DownloadResult> {
  const base = options.baseUrl ?? OFFICIAL_BASE_URL;
  let url: string;
  try {
    url = new URL(spec.path, base.endsWith('/') ? base : `${base}/`).href;
  } catch (err) {
    throw new DataArgumentError('options.baseUrl', `not a URL: ${JSON.stringify(base)}`, { cause: err });
  }
  const retries = options.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new DataArgumentError('options.retries', `expected an integer >= 0, got ${retries}`);
  }
  await mkdir(options.destDir, { recursive: true });
  const dest = join(options.destDir, spec.name);
  const part = `${dest}.part`;

  if ((await sizeOf(dest)) !== undefined) {
    const d = await hashFile(dest);
    if (check(spec, url, d).length === 0) {
      return { path: dest, url, ...d, cached: true, resumed: false, mismatches: [] };
    }
    await rm(dest, { force: true }); // a stale or damaged copy: fetch it again
  }

  const mode = options.progress ?? ProgressMode.Auto;
  const stream = options.progressStream ?? process.stderr;
  const showBar = mode === ProgressMode.Always || (mode === ProgressMode.Auto && stream.isTTY === true);

  let resumed = false;
  let delayMs = options.retryDelayMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      resumed = (await transfer(spec, url, part, showBar ? stream : undefined, options.signal)) || resumed;
      break;
    } catch (err) {
      if (!DownloadError.is(err) || !err.retryable || attempt >= retries || options.signal?.aborted) throw err;
      await sleep(delayMs, undefined, { signal: options.signal });
      delayMs *= 2;
    }
  }

  const d = await hashFile(part);
  const mismatches = check(spec, url, d, options.allowMismatch === true ? undefined : discardedHint);
  if (mismatches.length > 0 && options.allowMismatch !== true) {
    await rm(part, { force: true });
    throw mismatches[0]!;
  }
  await rename(part, dest);
  return { path: dest, url, ...d, cached: false, resumed, mismatches };
}

/** One HTTP transfer into `part`, appending from its current size. Returns true if it resumed. */
async function transfer(
  spec: DatasetFile,
  url: string,
  part: string,
  barStream: NodeJS.WritableStream | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  let offset = (await sizeOf(part)) ?? 0;
  if (spec.bytes !== undefined && offset > spec.bytes) {
    await rm(part, { force: true });
    offset = 0;
  }
  if (spec.bytes !== undefined && offset === spec.bytes) return true; // complete; verified by the caller

  let res: Response;
  try {
    res = await fetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {}, signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new DownloadError(url, `request failed: ${(err as Error).message}`, { cause: err });
  }
  let resumed = false;
  if (res.status === 206 && offset > 0) {
    const range = res.headers.get('content-range') ?? '';
    if (!range.startsWith(`bytes ${offset}-`)) {
      await res.body?.cancel();
      throw new DownloadError(url, `server sent range ${JSON.stringify(range)} for a request from byte ${offset}`, {
        status: 206,
      });
    }
    resumed = true;
  } else if (res.status === 416 && offset > 0) {
    await res.body?.cancel();
    return true; // nothing left to fetch: the part file is as long as the server's copy
  } else if (res.status === 200) {
    offset = 0; // the server ignored Range (or there was none): start over
  } else {
    await res.body?.cancel();
    throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`, { status: res.status });
  }

  const lengthHeader = res.headers.get('content-length');
  const total = spec.bytes ?? (lengthHeader === null ? undefined : offset + Number(lengthHeader));
  const bar = barStream ? new ProgressBar(barStream, spec.name, total) : undefined;
  const handle = await open(part, offset === 0 ? 'w' : 'a');
  let done = offset;
  try {
    if (res.body) {
      for await (const chunk of res.body) {
        await handle.write(chunk);
        done += chunk.length;
        bar?.update(done);
      }
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new DownloadError(url, `transfer stopped after ${done} bytes: ${(err as Error).message}`, { cause: err });
  } finally {
    await handle.close();
    bar?.finish(done);
  }
  return resumed;
}

/**
 * Downloads every file of a dataset (one after the other) into `destDir`.
 *
 * @throws IntegrityError or DownloadError as {@link downloadFile}; files finished before stay.
 */
export async function downloadDataset(dataset: DatasetName, options: DownloadOptions): Promise<DownloadResult[]> {
  const results: DownloadResult[] = [];
  for (const file of datasetFiles(dataset)) results.push(await downloadFile(file, options));
  return results;
}
