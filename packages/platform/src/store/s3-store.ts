/**
 * The S3 Store of the cluster mode (MinIO or any S3), through the `minio` client.
 *
 * A put reads the body into parts of `partSizeBytes`. A body that fits in one part is written
 * with one PUT carrying its sha256 as user metadata (`x-amz-meta-kzr-sha256`). A larger one is
 * uploaded as a multipart upload to a temporary key under `.kzr-tmp/`, completed, then copied
 * server-side to its key with the sha256 added to its metadata, and the temporary object removed;
 * on any failure the upload is aborted. Either way the key shows only complete objects.
 */
import { randomUUID } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';

import type * as MinioModule from 'minio';
import type { Client } from 'minio';

import { NotFoundError, ValidationError } from '../errors.js';
import {
  checkGetOptions,
  checkKey,
  checkMetadata,
  checkPrefix,
  HashingStream,
  readAll,
  ancestorKeys,
  nestedKeyError,
  toReadable,
  verifiedRead,
} from './common.js';
import type { GetOptions, ObjectInfo, PutBody, PutOptions, PutResult, Store } from './types.js';

/** Options of {@link S3Store.connect}. */
export interface S3StoreOptions {
  /** Endpoint URL, e.g. `http://minio:9000` or `https://s3.eu-west-1.amazonaws.com`. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Bucket; created when missing. */
  readonly bucket: string;
  /**
   * Size of each multipart part and the largest body sent as one PUT (S3 minimum 5 MiB).
   * @default 8388608 (8 MiB)
   */
  readonly partSizeBytes?: number;
  /** PEM CA that signed the server's certificate, for an `https` endpoint with a private CA. @default the system CAs */
  readonly caFile?: string | undefined;
  /**
   * How long a call keeps being sent again while the server is unreachable or restarting (a
   * refused or cut connection, a 5xx), with backoff from 100 ms to 2 s; connecting too.
   * @default 30000
   */
  readonly retryTimeoutMs?: number;
}

const shaKey = 'kzr-sha256';
const tmpPrefix = '.kzr-tmp/';

/** Node's codes of a connection refused, cut or timed out, and S3's of a server busy or restarting. */
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNABORTED',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
]);

/** Whether a call that failed with `err` may succeed when sent again. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && transientCodes.has(code)) || /socket hang up/i.test(String(err));
}

/**
 * Runs `call` until it succeeds, fails with an error that is not transient, or `timeoutMs` has
 * passed; the pause doubles from 100 ms to 2 s. Only for calls safe to send twice (S3's are,
 * bodies given as bytes included: a PUT again writes the same object).
 */
async function retryTransient<T>(timeoutMs: number, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || Date.now() + pause > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchBucket';
}

/** Reads up to `size` bytes from an async iterator of chunks, keeping the rest for later. */
class PartReader {
  readonly #iterator: AsyncIterator<Buffer>;
  #rest: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(stream: Readable) {
    this.#iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The next part: exactly `size` bytes unless the stream ended. */
  async next(size: number): Promise<Buffer> {
    const chunks: Buffer[] = [this.#rest];
    let length = this.#rest.length;
    while (length < size && !this.#done) {
      const { value, done } = await this.#iterator.next();
      if (done) {
        this.#done = true;
        break;
      }
      chunks.push(value);
      length += value.length;
    }
    const all = Buffer.concat(chunks, length);
    this.#rest = all.subarray(Math.min(size, all.length));
    return all.subarray(0, Math.min(size, all.length));
  }

  get ended(): boolean {
    return this.#done && this.#rest.length === 0;
  }
}

/** A pass-through that ends after `length` bytes. */
function takeBytes(length: number): Transform {
  let remaining = length;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (remaining <= 0) return callback();
      const part = chunk.subarray(0, remaining);
      remaining -= part.length;
      callback(null, part);
    },
  });
}

/**
 * The `minio` client library: about 0.4 s to load, so a process on the filesystem Store (and
 * every service before its Store is open) does without it.
 */
type Minio = typeof MinioModule;

/** S3 {@link Store}. */
export class S3Store implements Store {
  readonly kind = 's3' as const;
  readonly #client: Client;
  /** The `minio` module, loaded by {@link S3Store.connect}. */
  readonly #minio: Minio;
  readonly #bucket: string;
  readonly #partSize: number;
  readonly #retryTimeoutMs: number;

  private constructor(minio: Minio, client: Client, bucket: string, partSize: number, retryTimeoutMs: number) {
    this.#minio = minio;
    this.#retryTimeoutMs = retryTimeoutMs;
    this.#client = client;
    this.#bucket = bucket;
    this.#partSize = partSize;
  }

  /** Creates the client and makes sure the bucket exists. */
  static async connect(options: S3StoreOptions): Promise<S3Store> {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch (err) {
      throw new ValidationError('endpoint', `${JSON.stringify(options.endpoint)} is not a URL`, { cause: err });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new ValidationError('endpoint', 'expected http: or https:');
    const partSize = options.partSizeBytes ?? 8 * 1024 * 1024;
    if (!Number.isSafeInteger(partSize) || partSize < 5 * 1024 * 1024) {
      throw new ValidationError('partSizeBytes', 'expected an integer >= 5 MiB (the S3 minimum part size)');
    }
    const useSSL = url.protocol === 'https:';
    if (options.caFile !== undefined && !useSSL) {
      throw new ValidationError('caFile', 'needs an https: endpoint');
    }
    const minio = await import('minio');
    const client = new minio.Client({
      ...(options.caFile !== undefined
        ? { transportAgent: new HttpsAgent({ ca: readFileSync(options.caFile), keepAlive: true }) }
        : {}),
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region ?? 'us-east-1',
      pathStyle: true,
    });
    const retryTimeoutMs = options.retryTimeoutMs ?? 30_000;
    // A service started while the Store restarts waits for it, as it does for the Bus.
    await retryTransient(retryTimeoutMs, async () => {
      if (!(await client.bucketExists(options.bucket))) {
        await client.makeBucket(options.bucket, options.region ?? 'us-east-1').catch(async (err: unknown) => {
          if (!(await client.bucketExists(options.bucket))) throw err;
        });
      }
    });
    return new S3Store(minio, client, options.bucket, partSize, retryTimeoutMs);
  }

  /** The keys under `prefix` but the multipart uploads' temporary ones, at most `limit`; the listing is retried whole. */
  #listKeys(prefix: string, limit = Infinity): Promise<string[]> {
    return this.#retry(async () => {
      const keys: string[] = [];
      for await (const item of this.#client.listObjectsV2(this.#bucket, prefix, true)) {
        const name = (item as { name?: string }).name;
        if (name && !name.startsWith(tmpPrefix)) keys.push(name);
        if (keys.length >= limit) break;
      }
      return keys;
    });
  }

  /** {@link retryTransient} with this Store's timeout. */
  #retry<T>(call: () => Promise<T>): Promise<T> {
    return retryTransient(this.#retryTimeoutMs, call);
  }

  /**
   * Refuses a key with an object above or below it in its path (`a` and `a/b`), as the
   * filesystem Store must, so that both Stores hold the same sets of keys.
   */
  async #refuseNested(key: string): Promise<void> {
    for (const above of ancestorKeys(key)) {
      const exists = await this.#retry(() => this.#client.statObject(this.#bucket, above)).then(
        () => true,
        (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)),
      );
      if (exists) throw nestedKeyError(key);
    }
    if ((await this.#listKeys(`${key}/`, 1)).length > 0) throw nestedKeyError(key);
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    checkMetadata(options.metadata);
    options.signal?.throwIfAborted();
    const hashing = new HashingStream();
    const source = toReadable(body);
    const onAbort = (): void => {
      source.destroy(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    source.on('error', (err) => hashing.destroy(err));
    const reader = new PartReader(source.pipe(hashing));
    const contentType = options.contentType ?? 'application/octet-stream';
    try {
      await this.#refuseNested(key);
      const first = await reader.next(this.#partSize);
      if (reader.ended) {
        options.signal?.throwIfAborted();
        const sha256 = hashing.sha256;
        await this.#retry(() =>
          this.#client.putObject(this.#bucket, key, first, first.length, {
            'Content-Type': contentType,
            ...options.metadata,
            [shaKey]: sha256,
          }),
        );
        return { key, size: first.length, sha256 };
      }
      return await this.#putMultipart(key, first, reader, hashing, contentType, options);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      source.destroy();
    }
  }

  async #putMultipart(
    key: string,
    first: Buffer,
    reader: PartReader,
    hashing: HashingStream,
    contentType: string,
    options: PutOptions,
  ): Promise<PutResult> {
    const tmpKey = `${tmpPrefix}${randomUUID()}`;
    const uploadId = await this.#retry(() =>
      this.#client.initiateNewMultipartUpload(this.#bucket, tmpKey, { 'Content-Type': contentType }),
    );
    let completed = false;
    try {
      const etags: Array<{ part: number; etag: string }> = [];
      let part: Buffer = first;
      for (let number = 1; part.length > 0; number++) {
        options.signal?.throwIfAborted();
        const body = part;
        const uploaded = await this.#retry(() =>
          this.#client.uploadPart(
            { bucketName: this.#bucket, objectName: tmpKey, uploadID: uploadId, partNumber: number, headers: {} },
            body,
          ),
        );
        etags.push({ part: number, etag: uploaded.etag });
        part = reader.ended ? Buffer.alloc(0) : await reader.next(this.#partSize);
      }
      options.signal?.throwIfAborted();
      await this.#retry(() => this.#client.completeMultipartUpload(this.#bucket, tmpKey, uploadId, etags));
      completed = true;
      const sha256 = hashing.sha256;
      await this.#retry(() =>
        this.#client.copyObject(
          new this.#minio.CopySourceOptions({ Bucket: this.#bucket, Object: tmpKey }),
          new this.#minio.CopyDestinationOptions({
            Bucket: this.#bucket,
            Object: key,
            MetadataDirective: 'REPLACE',
            UserMetadata: { ...options.metadata, [shaKey]: sha256 },
            Headers: { 'Content-Type': contentType },
          }),
        ),
      );
      return { key, size: hashing.size, sha256 };
    } catch (err) {
      if (!completed) await this.#client.abortMultipartUpload(this.#bucket, tmpKey, uploadId).catch(() => undefined);
      throw err;
    } finally {
      if (completed) await this.#client.removeObject(this.#bucket, tmpKey).catch(() => undefined);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    checkKey(key);
    checkGetOptions(options);
    const { range, sha256 } = options;
    let stream: Readable;
    try {
      // Opening is retried; a stream cut after it opened fails its reader.
      stream = await this.#retry(() =>
        range
          ? this.#client.getPartialObject(
              this.#bucket,
              key,
              range.start,
              range.end === undefined ? undefined : range.end - range.start + 1,
            )
          : this.#client.getObject(this.#bucket, key),
      );
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`object ${JSON.stringify(key)}`, { cause: err });
      throw err;
    }
    if (options.signal) {
      const signal = options.signal;
      signal.addEventListener(
        'abort',
        () => stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted')),
        {
          once: true,
        },
      );
    }
    if (range?.end !== undefined) {
      // Some servers (s3rver for `bytes=0-0`) answer a range with more bytes; keep what was asked.
      const limited = takeBytes(range.end - range.start + 1);
      stream.on('error', (err) => limited.destroy(err));
      return stream.pipe(limited);
    }
    return verifiedRead(key, stream, sha256);
  }

  async getBytes(key: string, options: Omit<GetOptions, 'range'> = {}): Promise<Buffer> {
    return readAll(await this.get(key, options));
  }

  async stat(key: string): Promise<ObjectInfo> {
    checkKey(key);
    try {
      const stat = await this.#retry(() => this.#client.statObject(this.#bucket, key));
      const { 'content-type': contentType, [shaKey]: sha256, ...metadata } = stat.metaData as Record<string, string>;
      return {
        key,
        size: stat.size,
        sha256: sha256 ?? '',
        lastModified: stat.lastModified,
        contentType: contentType ?? 'application/octet-stream',
        metadata,
      };
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`object ${JSON.stringify(key)}`, { cause: err });
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    const keys = await this.#listKeys(prefix);
    keys.sort();
    const infos: ObjectInfo[] = [];
    // S3 listings carry no user metadata, so each object is stat'ed (8 at a time).
    for (let i = 0; i < keys.length; i += 8) {
      const batch = await Promise.all(
        keys
          .slice(i, i + 8)
          .map((key) =>
            this.stat(key).catch((err: unknown) => (err instanceof NotFoundError ? undefined : Promise.reject(err))),
          ),
      );
      for (const info of batch) if (info) infos.push(info);
    }
    return infos;
  }

  async copy(fromKey: string, toKey: string): Promise<PutResult> {
    checkKey(toKey);
    const info = await this.stat(fromKey);
    await this.#refuseNested(toKey);
    try {
      // Server-side: the bytes never leave the store, and the metadata (the sha256 too) goes along.
      await this.#retry(() =>
        this.#client.copyObject(
          new this.#minio.CopySourceOptions({ Bucket: this.#bucket, Object: fromKey }),
          new this.#minio.CopyDestinationOptions({ Bucket: this.#bucket, Object: toKey }),
        ),
      );
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`object ${JSON.stringify(fromKey)}`, { cause: err });
      throw err;
    }
    return { key: toKey, size: info.size, sha256: info.sha256 };
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.#retry(() => this.#client.removeObject(this.#bucket, key));
  }

  /**
   * The raw client and bucket (for tests that corrupt an object behind the store's back).
   * @internal
   */
  get raw(): { client: Client; bucket: string } {
    return { client: this.#client, bucket: this.#bucket };
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
