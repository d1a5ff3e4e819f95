/**
 * The filesystem Store of the embedded mode. Layout under `root`: `objects/<key>` holds the
 * bytes, `.kzr-sidecar/<key>` the sha256, size, content type and metadata (JSON; the same path as
 * the bytes, so a sidecar never takes the name another key needs as a folder: `a` and `a.json/b`
 * both fit, as in S3), `.kzr-tmp/` the puts in progress. Stores written before keep their
 * sidecars at `.kzr-meta/<key>.json`, which are still read and deleted. A key and a key below it
 * (`a` and `a/b`) cannot both be files and folders here; the second put is refused naming both.
 * Puts in progress live in `.kzr-tmp/`. A put writes temporary files and renames them into place (metadata first,
 * then the bytes), so an object is listed only once complete, and an aborted put leaves nothing.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat as fsStat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';

import { NotFoundError } from '../errors.js';
import {
  checkGetOptions,
  checkKey,
  checkMetadata,
  checkPrefix,
  HashingStream,
  readAll,
  nestedKeyError,
  toReadable,
  verifiedRead,
} from './common.js';
import type { GetOptions, ObjectInfo, PutBody, PutOptions, PutResult, Store } from './types.js';

interface MetaFile {
  sha256: string;
  size: number;
  contentType: string;
  metadata: Record<string, string>;
}

/** Options of {@link FsStore}. */
export interface FsStoreOptions {
  /** Directory that holds the store (created when missing). */
  readonly root: string;
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as { code?: string }).code ?? '');
}

/** Filesystem {@link Store}. */
export class FsStore implements Store {
  readonly kind = 'fs' as const;
  readonly #objects: string;
  readonly #meta: string;
  /** Where stores written before the sidecars moved keep them (`<key>.json`). */
  readonly #legacyMeta: string;
  readonly #tmp: string;

  constructor(options: FsStoreOptions) {
    this.#objects = join(options.root, 'objects');
    this.#meta = join(options.root, '.kzr-sidecar');
    this.#legacyMeta = join(options.root, '.kzr-meta');
    this.#tmp = join(options.root, '.kzr-tmp');
  }

  /**
   * Creates the directories and removes temporary files older than an hour (puts left by a
   * crash). Newer ones may belong to another process on the same store (a local job), so they
   * stay.
   */
  static async open(options: FsStoreOptions): Promise<FsStore> {
    const store = new FsStore(options);
    await Promise.all([store.#objects, store.#meta, store.#tmp].map((d) => mkdir(d, { recursive: true })));
    const cutoffMs = Date.now() - 3_600_000;
    for (const name of await readdir(store.#tmp)) {
      const path = join(store.#tmp, name);
      const stats = await fsStat(path).catch(() => undefined);
      if (stats && stats.mtimeMs < cutoffMs) await rm(path, { force: true });
    }
    return store;
  }

  #paths(key: string): { data: string; meta: string; legacyMeta: string } {
    const segments = key.split('/');
    return {
      data: join(this.#objects, ...segments),
      meta: join(this.#meta, ...segments),
      legacyMeta: `${join(this.#legacyMeta, ...segments)}.json`,
    };
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    checkMetadata(options.metadata);
    const id = randomUUID();
    const tmpData = join(this.#tmp, `${id}.data`);
    const tmpMeta = join(this.#tmp, `${id}.json`);
    const hashing = new HashingStream();
    try {
      await mkdir(this.#tmp, { recursive: true });
      await pipeline(toReadable(body), hashing, createWriteStream(tmpData, { flags: 'wx' }), {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const meta: MetaFile = {
        sha256: hashing.sha256,
        size: hashing.size,
        contentType: options.contentType ?? 'application/octet-stream',
        metadata: { ...options.metadata },
      };
      await writeFile(tmpMeta, JSON.stringify(meta));
      await this.#moveIntoPlace(key, tmpMeta, tmpData);
      return { key, size: meta.size, sha256: meta.sha256 };
    } finally {
      await Promise.all([rm(tmpData, { force: true }), rm(tmpMeta, { force: true })]);
    }
  }

  /** Renames a finished temporary object into place: metadata first, then the bytes that make it visible. */
  async #moveIntoPlace(key: string, tmpMeta: string, tmpData: string): Promise<void> {
    const paths = this.#paths(key);
    try {
      await Promise.all([
        mkdir(dirname(paths.data), { recursive: true }),
        mkdir(dirname(paths.meta), { recursive: true }),
      ]);
      await rename(tmpMeta, paths.meta);
      await rename(tmpData, paths.data);
    } catch (err) {
      if (isErrno(err, 'ENOTDIR', 'EISDIR', 'EEXIST')) throw nestedKeyError(key, err);
      throw err;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    checkKey(key);
    checkGetOptions(options);
    let handle;
    try {
      handle = await open(this.#paths(key).data, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR'))
        throw new NotFoundError(`object ${JSON.stringify(key)}`, { cause: err });
      throw err;
    }
    const { range, sha256, signal } = options;
    const stream = handle.createReadStream({
      ...(range ? { start: range.start, ...(range.end !== undefined ? { end: range.end } : {}) } : {}),
      ...(signal ? { signal } : {}),
    });
    return verifiedRead(key, stream, sha256);
  }

  async getBytes(key: string, options: Omit<GetOptions, 'range'> = {}): Promise<Buffer> {
    return readAll(await this.get(key, options));
  }

  async stat(key: string): Promise<ObjectInfo> {
    checkKey(key);
    return this.#info(key);
  }

  async #info(key: string): Promise<ObjectInfo> {
    const paths = this.#paths(key);
    let stats;
    try {
      stats = await fsStat(paths.data);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw new NotFoundError(`object ${JSON.stringify(key)}`, { cause: err });
      throw err;
    }
    if (!stats.isFile()) throw new NotFoundError(`object ${JSON.stringify(key)}`);
    let meta: Partial<MetaFile> = {};
    for (const path of [paths.meta, paths.legacyMeta]) {
      try {
        meta = JSON.parse(await readFile(path, 'utf8')) as MetaFile;
        break;
      } catch (err) {
        if (!isErrno(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw err;
      }
    }
    return {
      key,
      size: stats.size,
      sha256: meta.sha256 ?? '',
      lastModified: stats.mtime,
      contentType: meta.contentType ?? 'application/octet-stream',
      metadata: meta.metadata ?? {},
    };
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    const cut = prefix.lastIndexOf('/');
    const start = cut < 0 ? this.#objects : join(this.#objects, ...prefix.slice(0, cut).split('/'));
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) return;
        throw err;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        const key = relative(this.#objects, path).split(sep).join('/');
        if (entry.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(path);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          keys.push(key);
        }
      }
    };
    await walk(start);
    keys.sort();
    const infos = await Promise.all(
      keys.map((key) =>
        this.#info(key).catch((err: unknown) => (err instanceof NotFoundError ? undefined : Promise.reject(err))),
      ),
    );
    return infos.filter((info): info is ObjectInfo => info !== undefined);
  }

  async copy(fromKey: string, toKey: string): Promise<PutResult> {
    checkKey(fromKey);
    checkKey(toKey);
    const info = await this.#info(fromKey);
    const id = randomUUID();
    const tmpData = join(this.#tmp, `${id}.data`);
    const tmpMeta = join(this.#tmp, `${id}.json`);
    try {
      await mkdir(this.#tmp, { recursive: true });
      try {
        await copyFile(this.#paths(fromKey).data, tmpData);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) throw new NotFoundError(`object ${JSON.stringify(fromKey)}`, { cause: err });
        throw err;
      }
      const meta: MetaFile = {
        sha256: info.sha256,
        size: info.size,
        contentType: info.contentType,
        metadata: { ...info.metadata },
      };
      await writeFile(tmpMeta, JSON.stringify(meta));
      await this.#moveIntoPlace(toKey, tmpMeta, tmpData);
      return { key: toKey, size: info.size, sha256: info.sha256 };
    } finally {
      await Promise.all([rm(tmpData, { force: true }), rm(tmpMeta, { force: true })]);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    const paths = this.#paths(key);
    // Bytes first: once they are gone the object is not listed any more.
    await rm(paths.data, { force: true });
    await rm(paths.meta, { force: true });
    await rm(paths.legacyMeta, { force: true });
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Path of the bytes of `key` (for tests that corrupt an object behind the store's back).
   * @internal
   */
  pathOf(key: string): string {
    checkKey(key);
    return this.#paths(key).data;
  }
}
