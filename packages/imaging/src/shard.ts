/**
 * Dataset shards (DESIGN.md, Artifacts): the contract between preprocess and the trainer's
 * loader. `shard-NNNNN.bin` is a sequence of records
 * `[u32 height][u32 width][u8 channels][pixels, row-major HWC]` (little-endian); `index.json`
 * lists every record with its metadata. Pure buffers and streams: storing them is the caller's
 * business.
 *
 * Extension of the DESIGN format (compatible): the index also carries `shards` (the file names,
 * in order) and each record its `shard` (position in `shards`), since `offset` alone is
 * ambiguous once a split spans several shard files.
 */
import { ShardFormatError } from './errors.js';
import { type RawImage } from './raw-image.js';

/** Bytes of a record header: u32 height, u32 width, u8 channels. */
export const shardRecordHeaderBytes = 9;

/** Version written into `index.json`. */
export const shardIndexVersion = 1;

/** What a record is, besides its pixels. */
export interface ShardRecordMeta {
  /** Class label, for example `U+3042`. */
  readonly label: string;
  /** Page id the crop was cut from. */
  readonly page: string;
  /** Book id of the page. */
  readonly book: string;
  /** The character's unpadded box on the page: [x, y, w, h]. */
  readonly box: readonly [number, number, number, number];
}

/** One entry of `index.json`. */
export interface ShardIndexRecord extends ShardRecordMeta {
  /** Position of the shard file in {@link ShardIndex.shards}. */
  readonly shard: number;
  /** Byte offset of the record header in its shard. */
  readonly offset: number;
  /** Crop height. */
  readonly h: number;
  /** Crop width. */
  readonly w: number;
  /** Channels (3 for dataset shards). */
  readonly c: number;
}

/** The contents of `index.json`. */
export interface ShardIndex {
  readonly version: number;
  readonly count: number;
  /** Shard file names, in order (`shard-00000.bin`, ...). */
  readonly shards: readonly string[];
  readonly records: readonly ShardIndexRecord[];
}

/** A finished shard file. */
export interface ShardFile {
  readonly name: string;
  readonly bytes: Buffer;
}

/** A record read back from a shard. */
export interface ShardRecord {
  /** Byte offset of the record header in its shard. */
  readonly offset: number;
  readonly image: RawImage;
}

/** File name of the `n`-th shard: `shard-00000.bin`. */
export function shardName(n: number): string {
  return `shard-${String(n).padStart(5, '0')}.bin`;
}

/** Encodes one record: header then pixels. */
export function encodeShardRecord(image: RawImage): Buffer {
  const out = Buffer.allocUnsafe(shardRecordHeaderBytes + image.data.length);
  out.writeUInt32LE(image.height, 0);
  out.writeUInt32LE(image.width, 4);
  out.writeUInt8(image.channels, 8);
  out.set(image.data, shardRecordHeaderBytes);
  return out;
}

/** Options of {@link ShardWriter}. */
export interface ShardWriterOptions {
  /**
   * A shard is closed once it holds at least this many bytes (a record never straddles two).
   * @default 64 MiB
   */
  readonly maxShardBytes?: number;
}

/**
 * Packs crops into shards in the order they are added. `add` returns a shard as soon as it is
 * full, so a caller can store it and drop it; `finish` returns the last one and the index.
 */
export class ShardWriter {
  readonly #maxShardBytes: number;
  readonly #records: ShardIndexRecord[] = [];
  readonly #names: string[] = [];
  #parts: Buffer[] = [];
  #bytes = 0;
  #finished = false;

  constructor(options: ShardWriterOptions = {}) {
    this.#maxShardBytes = options.maxShardBytes ?? 64 * 1024 * 1024;
  }

  /** Appends a crop; returns the shard it completed, if any. */
  add(image: RawImage, meta: ShardRecordMeta): ShardFile | undefined {
    if (this.#finished) throw new ShardFormatError('shard', 'ShardWriter.add after finish');
    const record = encodeShardRecord(image);
    this.#records.push({
      label: meta.label,
      page: meta.page,
      book: meta.book,
      box: [meta.box[0], meta.box[1], meta.box[2], meta.box[3]],
      shard: this.#names.length,
      offset: this.#bytes,
      h: image.height,
      w: image.width,
      c: image.channels,
    });
    this.#parts.push(record);
    this.#bytes += record.length;
    return this.#bytes >= this.#maxShardBytes ? this.#close() : undefined;
  }

  /** Closes the writer: the last (possibly empty-of-records: then absent) shard and the index. */
  finish(): { shard: ShardFile | undefined; index: ShardIndex } {
    this.#finished = true;
    const shard = this.#bytes > 0 ? this.#close() : undefined;
    return {
      shard,
      index: {
        version: shardIndexVersion,
        count: this.#records.length,
        shards: [...this.#names],
        records: this.#records,
      },
    };
  }

  #close(): ShardFile {
    const file = { name: shardName(this.#names.length), bytes: Buffer.concat(this.#parts, this.#bytes) };
    this.#names.push(file.name);
    this.#parts = [];
    this.#bytes = 0;
    return file;
  }
}

function readHeader(bytes: Uint8Array, offset: number): { h: number; w: number; c: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, shardRecordHeaderBytes);
  const h = view.getUint32(0, true);
  const w = view.getUint32(4, true);
  const c = view.getUint8(8);
  if (h === 0 || w === 0 || (c !== 1 && c !== 3)) {
    throw new ShardFormatError('shard', `bad record header at offset ${offset}: ${h}x${w}x${c}`);
  }
  return { h, w, c };
}

/** Reads the record at `offset` of a whole shard held in memory. */
export function readShardRecordAt(bytes: Uint8Array, offset: number): RawImage {
  if (offset < 0 || offset + shardRecordHeaderBytes > bytes.length) {
    throw new ShardFormatError('offset', `no record header at offset ${offset} of a ${bytes.length}-byte shard`);
  }
  const { h, w, c } = readHeader(bytes, offset);
  const start = offset + shardRecordHeaderBytes;
  const end = start + h * w * c;
  if (end > bytes.length) {
    throw new ShardFormatError('shard', `record at offset ${offset} (${h}x${w}x${c}) runs past the end of the shard`);
  }
  // A copy as a plain Uint8Array (Buffer#slice would return a view of the shard).
  return { width: w, height: h, channels: c, data: new Uint8Array(bytes.subarray(start, end)) };
}

/** Decodes every record of a whole shard held in memory. */
export function decodeShard(bytes: Uint8Array): ShardRecord[] {
  const out: ShardRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const image = readShardRecordAt(bytes, offset);
    out.push({ offset, image });
    offset += shardRecordHeaderBytes + image.data.length;
  }
  return out;
}

/**
 * Streams the records of a shard from its bytes in chunks of any size (a Store read stream, a
 * file stream), holding at most one record plus one chunk in memory.
 * @throws ShardFormatError when the stream ends inside a record.
 */
export async function* readShardRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<ShardRecord> {
  let pending: Buffer = Buffer.alloc(0);
  let consumed = 0;
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    let pos = 0;
    while (pending.length - pos >= shardRecordHeaderBytes) {
      const { h, w, c } = readHeader(pending, pos);
      const size = shardRecordHeaderBytes + h * w * c;
      if (pending.length - pos < size) break;
      const data = new Uint8Array(pending.subarray(pos + shardRecordHeaderBytes, pos + size)); // copies
      yield { offset: consumed + pos, image: { width: w, height: h, channels: c, data } };
      pos += size;
    }
    consumed += pos;
    pending = pending.subarray(pos);
  }
  if (pending.length > 0) {
    throw new ShardFormatError(
      'shard',
      `shard ends inside the record at offset ${consumed} (${pending.length} bytes left)`,
    );
  }
}

/** Validates parsed `index.json` contents. */
export function parseShardIndex(value: unknown): ShardIndex {
  const fail = (msg: string): never => {
    throw new ShardFormatError('index', `invalid shard index: ${msg}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const v = value as Record<string, unknown>;
  if (v.version !== shardIndexVersion) fail(`unsupported version ${String(v.version)}`);
  if (!Array.isArray(v.records)) return fail('records is not an array');
  if (!Array.isArray(v.shards) || !v.shards.every((s) => typeof s === 'string')) fail('shards is not a list of names');
  if (v.count !== v.records.length) fail(`count ${String(v.count)} != ${v.records.length} records`);
  const shards = v.shards as string[];
  v.records.forEach((r: unknown, i) => {
    const rec = r as Record<string, unknown>;
    const ok =
      typeof rec === 'object' &&
      rec !== null &&
      typeof rec.label === 'string' &&
      typeof rec.page === 'string' &&
      typeof rec.book === 'string' &&
      Array.isArray(rec.box) &&
      rec.box.length === 4 &&
      [rec.shard, rec.offset, rec.h, rec.w, rec.c].every((n) => Number.isInteger(n) && (n as number) >= 0) &&
      (rec.shard as number) < shards.length;
    if (!ok) fail(`record ${i} is malformed`);
  });
  return value as ShardIndex;
}
