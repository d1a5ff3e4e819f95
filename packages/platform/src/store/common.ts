/** Pieces both Store implementations share: key rules, body streams, hashing and verification. */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';

import { IntegrityCheck, IntegrityError } from '@kzr/core';

import { ValidationError } from '../errors.js';
import type { GetOptions, PutBody } from './types.js';

/**
 * Checks an object key: 1 to 1024 characters, `/`-separated segments that are not empty, `.`
 * or `..`, no backslash, `%` or control characters, and no leading `.kzr` segment (reserved).
 * Keys are never URL-decoded; refusing `%` also keeps any layer that would (a proxy, a
 * client) from reading `%2e%2e` as `..`.
 */
export function checkKey(key: string, field = 'key'): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    throw new ValidationError(field, 'must be 1 to 1024 characters');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\%]/.test(key))
    throw new ValidationError(field, 'must not contain control characters, backslashes or %');
  const segments = key.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new ValidationError(field, `${JSON.stringify(key)} has an empty, "." or ".." segment`);
  }
  if (segments[0]!.startsWith('.kzr')) throw new ValidationError(field, 'keys starting with .kzr are reserved');
}

/** Checks a list prefix: empty, or a key-like string (it may end with `/`). */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'prefix');
}

/** Checks metadata keys and values (they become S3 user metadata headers). */
export function checkMetadata(metadata: Readonly<Record<string, string>> | undefined): void {
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (!/^[a-z0-9-]{1,64}$/.test(key))
      throw new ValidationError(`metadata.${key}`, 'keys are 1 to 64 of a-z, 0-9 and -');
    if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) {
      throw new ValidationError(`metadata.${key}`, 'values are printable ASCII');
    }
  }
}

/** Checks a get's options. */
export function checkGetOptions(options: GetOptions): void {
  const { range, sha256 } = options;
  if (range && sha256) throw new ValidationError('sha256', 'range reads are not verified; give either range or sha256');
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256))
    throw new ValidationError('sha256', 'expected 64 lowercase hex digits');
  if (range) {
    if (!Number.isSafeInteger(range.start) || range.start < 0)
      throw new ValidationError('range.start', 'expected an integer >= 0');
    if (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start)) {
      throw new ValidationError('range.end', 'expected an integer >= range.start');
    }
  }
}

/** A body as a Node stream. */
export function toReadable(body: PutBody): Readable {
  if (body instanceof Readable) return body;
  if (body instanceof Uint8Array) return Readable.from([body], { objectMode: false });
  return Readable.from(body, { objectMode: false });
}

/** A pass-through that hashes and counts what flows through it. */
export class HashingStream extends Transform {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #digest: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#digest = this.#hash.digest('hex');
    callback();
  }

  /** Bytes seen. */
  get size(): number {
    return this.#size;
  }

  /** Hex sha256 of everything seen; available after the stream ended. */
  get sha256(): string {
    if (this.#digest === undefined) throw new Error('the stream has not ended');
    return this.#digest;
  }
}

/** A pass-through that fails at its end with an {@link IntegrityError} when the sha256 differs. */
export function verifying(key: string, expected: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      callback(actual === expected ? null : new IntegrityError(key, IntegrityCheck.Sha256, expected, actual));
    },
  });
}

/**
 * A full read as the caller gets it: `stream` itself without an expected sha256, else piped
 * through {@link verifying}, with the source's errors passed on.
 */
export function verifiedRead(key: string, stream: Readable, sha256: string | undefined): Readable {
  if (!sha256) return stream;
  const check = verifying(key, sha256);
  stream.on('error', (err) => check.destroy(err));
  return stream.pipe(check);
}

/** Reads a stream fully. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * The error both Stores give for a key with an object above or below it in the same path (`a`
 * and `a/b`): a filesystem cannot hold a file and a folder of one name, so neither Store holds both.
 */
export function nestedKeyError(key: string, cause?: unknown): ValidationError {
  return new ValidationError(
    'key',
    `${JSON.stringify(key)} cannot be stored beside an object above or below it in the same path ("a" and "a/b")`,
    cause === undefined ? undefined : { cause },
  );
}

/** The proper ancestors of a key as object keys: `a/b/c` -> `a`, `a/b`. */
export function ancestorKeys(key: string): string[] {
  const parts = key.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
