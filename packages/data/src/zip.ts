/**
 * A small ZIP reader for npz files: stored (method 0) and deflate (method 8) members, ZIP64
 * sizes and offsets. Sizes come from the central directory (and its ZIP64 extra field), never
 * from the local header alone: `np.savez_compressed` writes `0xFFFFFFFF` there and keeps the real
 * sizes in a ZIP64 extra field, while the central directory holds them plainly.
 */
import { crc32, inflateRawSync } from 'node:zlib';

import { DataFormatError } from './errors.js';

/** Compression methods this reader understands. */
export const ZipMethod = {
  Stored: 0,
  Deflate: 8,
} as const;
export type ZipMethod = (typeof ZipMethod)[keyof typeof ZipMethod];

/** One member of a ZIP archive, as its central directory describes it. */
export interface ZipEntry {
  /** Member name (UTF-8 or CP437 as stored; npz names are ASCII). */
  readonly name: string;
  /** Compression method number (see {@link ZipMethod}). */
  readonly method: number;
  /** CRC-32 of the uncompressed bytes. */
  readonly crc32: number;
  /** Compressed size in bytes. */
  readonly compressedBytes: number;
  /** Uncompressed size in bytes. */
  readonly uncompressedBytes: number;
  /** Offset of the member's local header from the start of the archive. */
  readonly localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

function u64(buf: Buffer, offset: number, file: string, field: string): number {
  const value = buf.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataFormatError(file, field, `value ${value} is too large`);
  return Number(value);
}

function need(buf: Buffer, offset: number, length: number, file: string, field: string): void {
  if (offset < 0 || offset + length > buf.length) {
    throw new DataFormatError(file, field, `truncated: needs bytes ${offset}..${offset + length} of ${buf.length}`);
  }
}

/**
 * Lists the members of a ZIP archive held in memory.
 *
 * @param file - name used in error messages.
 * @throws DataFormatError when the archive is truncated or malformed.
 */
export function listZipEntries(buf: Buffer, file = '<buffer>'): ZipEntry[] {
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65535 bytes.
  const minEocd = 22;
  if (buf.length < minEocd) throw new DataFormatError(file, 'zip', `only ${buf.length} bytes; not a ZIP archive`);
  let eocd = -1;
  for (let i = buf.length - minEocd; i >= Math.max(0, buf.length - minEocd - MAX16); i--) {
    if (buf.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new DataFormatError(file, 'zip.endOfCentralDirectory', 'not found; not a ZIP archive');
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === MAX16 || cdSize === MAX32 || cdOffset === MAX32) {
    const locator = eocd - 20;
    need(buf, locator, 20, file, 'zip.zip64Locator');
    if (buf.readUInt32LE(locator) !== SIG_ZIP64_LOCATOR) {
      throw new DataFormatError(file, 'zip.zip64Locator', 'missing although the end record needs ZIP64');
    }
    const record = u64(buf, locator + 8, file, 'zip.zip64Locator.offset');
    need(buf, record, 56, file, 'zip.zip64EndOfCentralDirectory');
    if (buf.readUInt32LE(record) !== SIG_ZIP64_EOCD) {
      throw new DataFormatError(file, 'zip.zip64EndOfCentralDirectory', 'bad signature');
    }
    count = u64(buf, record + 32, file, 'zip.zip64EndOfCentralDirectory.entries');
    cdSize = u64(buf, record + 40, file, 'zip.zip64EndOfCentralDirectory.size');
    cdOffset = u64(buf, record + 48, file, 'zip.zip64EndOfCentralDirectory.offset');
  }
  need(buf, cdOffset, cdSize, file, 'zip.centralDirectory');

  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let n = 0; n < count; n++) {
    const field = `zip.centralDirectory[${n}]`;
    need(buf, at, 46, file, field);
    if (buf.readUInt32LE(at) !== SIG_CENTRAL) throw new DataFormatError(file, field, 'bad signature');
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    let compressedBytes = buf.readUInt32LE(at + 20);
    let uncompressedBytes = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    let localHeaderOffset = buf.readUInt32LE(at + 42);
    need(buf, at + 46, nameLength + extraLength + commentLength, file, field);
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength);
    // ZIP64 extended information (id 0x0001): only the fields that are 0xFFFFFFFF in the fixed
    // part are present, in this order: uncompressed, compressed, local header offset.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = buf.readUInt16LE(extra);
      const size = buf.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let p = extra + 4;
        const end = p + size;
        const take = (what: string): number => {
          if (p + 8 > end)
            throw new DataFormatError(file, `${field}.zip64.${what}`, 'missing in the ZIP64 extra field');
          const value = u64(buf, p, file, `${field}.zip64.${what}`);
          p += 8;
          return value;
        };
        if (uncompressedBytes === MAX32) uncompressedBytes = take('uncompressedSize');
        if (compressedBytes === MAX32) compressedBytes = take('compressedSize');
        if (localHeaderOffset === MAX32) localHeaderOffset = take('localHeaderOffset');
      }
      extra += 4 + size;
    }
    entries.push({ name, method, crc32: crc, compressedBytes, uncompressedBytes, localHeaderOffset });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * Returns the uncompressed bytes of one member, checking its size and CRC-32.
 *
 * @throws DataFormatError for an unsupported method, encryption, or a size or CRC mismatch.
 */
export function readZipEntry(buf: Buffer, entry: ZipEntry, file = '<buffer>'): Buffer {
  const field = `zip.${entry.name}`;
  const at = entry.localHeaderOffset;
  need(buf, at, 30, file, `${field}.localHeader`);
  if (buf.readUInt32LE(at) !== SIG_LOCAL) throw new DataFormatError(file, `${field}.localHeader`, 'bad signature');
  if (buf.readUInt16LE(at + 6) & 0x1) throw new DataFormatError(file, field, 'encrypted members are not supported');
  // The local name and extra lengths may differ from the central ones; the data follows them.
  const dataStart = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  need(buf, dataStart, entry.compressedBytes, file, `${field}.data`);
  const raw = buf.subarray(dataStart, dataStart + entry.compressedBytes);
  let out: Buffer;
  if (entry.method === ZipMethod.Stored) {
    out = raw;
  } else if (entry.method === ZipMethod.Deflate) {
    try {
      out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedBytes) });
    } catch (err) {
      throw new DataFormatError(file, `${field}.data`, `deflate stream is corrupt: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } else {
    throw new DataFormatError(file, `${field}.method`, `compression method ${entry.method} is not supported (0 or 8)`);
  }
  if (out.length !== entry.uncompressedBytes) {
    throw new DataFormatError(
      file,
      `${field}.size`,
      `expected ${entry.uncompressedBytes} bytes uncompressed, got ${out.length}`,
    );
  }
  const actual = crc32(out);
  if (actual !== entry.crc32) {
    throw new DataFormatError(
      file,
      `${field}.crc32`,
      `expected ${entry.crc32.toString(16).padStart(8, '0')}, got ${actual.toString(16).padStart(8, '0')}`,
    );
  }
  return out;
}
