/**
 * The Store: kzr's object store (artifact keys in DESIGN.md). Two implementations share these
 * semantics and one contract suite: {@link S3Store} (MinIO or any S3, through the `minio`
 * client) and {@link FsStore} (a directory; the embedded mode).
 *
 * Every put computes the sha256 of what it wrote and returns it; an object becomes visible
 * only complete (filesystem: temporary file + rename; S3: one PUT, or a completed multipart
 * upload that is aborted on failure). A full read can be verified against a known sha256;
 * range reads are not verified.
 */
import type { Readable } from 'node:stream';

/** Body of a put: bytes, or a stream of them (Node stream or any async iterable). */
export type PutBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Options of {@link Store.put}. */
export interface PutOptions {
  /** @default 'application/octet-stream' */
  readonly contentType?: string;
  /** Small string metadata kept with the object (keys: lowercase letters, digits, `-`). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** What {@link Store.put} wrote. */
export interface PutResult {
  readonly key: string;
  readonly size: number;
  /** Hex sha256 of the bytes, computed while writing. */
  readonly sha256: string;
}

/** A byte range of a get: `start` and `end` both inclusive (as HTTP ranges). */
export interface ByteRange {
  readonly start: number;
  /** Last byte, inclusive; omitted = to the end. */
  readonly end?: number;
}

/** Options of {@link Store.get}. */
export interface GetOptions {
  /** Read only these bytes (not verified). */
  readonly range?: ByteRange;
  /**
   * Expected hex sha256 of the whole object: the stream fails with an IntegrityError at its end
   * when the bytes differ. Not allowed with `range`.
   */
  readonly sha256?: string;
  readonly signal?: AbortSignal;
}

/** What {@link Store.stat} and {@link Store.list} report about an object. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Hex sha256 recorded at put time (empty when the object was written by something else). */
  readonly sha256: string;
  readonly lastModified: Date;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The Store adapter interface. */
export interface Store extends AsyncDisposable {
  /** Which implementation: `s3` or `fs`. */
  readonly kind: 's3' | 'fs';
  /** Writes an object; it becomes visible only when complete. */
  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>;
  /** Reads an object (or a range of it) as a stream; NotFoundError when missing. */
  get(key: string, options?: GetOptions): Promise<Readable>;
  /** Reads a whole object into memory, verified when `sha256` is given. */
  getBytes(key: string, options?: Omit<GetOptions, 'range'>): Promise<Buffer>;
  /** Describes an object; NotFoundError when missing. */
  stat(key: string): Promise<ObjectInfo>;
  /** Objects whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /**
   * Copies an object to another key, with its content type, metadata and recorded sha256,
   * without passing the bytes through this process where the backend can (S3: server-side
   * CopyObject). Like a put, the copy becomes visible only complete. NotFoundError when
   * `fromKey` is missing.
   */
  copy(fromKey: string, toKey: string): Promise<PutResult>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Releases resources. Idempotent. */
  close(): Promise<void>;
}
