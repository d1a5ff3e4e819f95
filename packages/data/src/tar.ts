/**
 * A streaming tar reader (POSIX ustar, GNU long names, pax extended headers) and, on top of it,
 * the Kuzushiji-Kanji reader: `kkanji.tar` holds one folder per class, `kkanji2/U+XXXX/<id>.png`,
 * each a 64x64 greyscale PNG. The archive (~310 MB) is read as a stream, one member at a time.
 */
import { createReadStream } from 'node:fs';

import sharp from 'sharp';

import { DataFormatError } from './errors.js';

/** Member types the reader reports; everything else (links, devices, FIFOs) is `other`. */
export const TarEntryType = {
  File: 'file',
  Directory: 'directory',
  Other: 'other',
} as const;
export type TarEntryType = (typeof TarEntryType)[keyof typeof TarEntryType];

/** One member of a tar archive. */
export interface TarEntry {
  /** Path inside the archive, with long names and pax `path` applied. */
  readonly path: string;
  /** Member type. */
  readonly type: TarEntryType;
  /** Size of the contents in bytes (0 for directories). */
  readonly size: number;
  /** The contents (files only; empty for other types). */
  readonly data: Buffer;
}

const BLOCK = 512;

/** Reads exact byte counts from an async stream of chunks. */
class ByteReader {
  private readonly iterator: AsyncIterator<Buffer | string>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Returns exactly `n` bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const take = Math.min(n, all.length);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

function cString(buf: Buffer, start: number, length: number): string {
  const slice = buf.subarray(start, start + length);
  const end = slice.indexOf(0);
  return slice.toString('utf8', 0, end < 0 ? length : end);
}

function numeric(buf: Buffer, start: number, length: number, file: string, field: string): number {
  const first = buf[start]!;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as a flag.
    let value = 0;
    for (let i = 1; i < length; i++) value = value * 256 + buf[start + i]!;
    return value;
  }
  const text = cString(buf, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new DataFormatError(file, field, `not an octal number: ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function parsePax(data: Buffer, file: string): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(data.toString('ascii', at, space));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) {
      throw new DataFormatError(file, 'tar.pax', `bad record length at byte ${at}`);
    }
    const record = data.toString('utf8', space + 1, at + length - 1); // drop the trailing newline
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/**
 * Iterates over the members of a tar archive (a file path or a stream of chunks), one at a time,
 * checking each header's checksum.
 *
 * @param file - name used in error messages (defaults to the path).
 * @throws DataFormatError for a bad checksum, a truncated archive or malformed headers.
 */
export async function* readTarEntries(
  source: string | AsyncIterable<Buffer | string>,
  file?: string,
): AsyncGenerator<TarEntry> {
  const name = file ?? (typeof source === 'string' ? source : '<stream>');
  const reader = new ByteReader(typeof source === 'string' ? createReadStream(source) : source);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  let index = 0;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header.length === 0) return; // no end-of-archive blocks; tolerated as GNU tar does
      const field = `tar.member[${index}]`;
      if (header.length < BLOCK) throw new DataFormatError(name, field, 'truncated header');
      if (header.every((b) => b === 0)) return; // end-of-archive marker
      const stored = numeric(header, 148, 8, name, `${field}.checksum`);
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
      if (sum !== stored) throw new DataFormatError(name, `${field}.checksum`, `expected ${stored}, computed ${sum}`);

      const typeflag = String.fromCharCode(header[156]!);
      const size = pax.has('size') ? Number(pax.get('size')) : numeric(header, 124, 12, name, `${field}.size`);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      const body = await reader.read(padded);
      if (body.length < padded) throw new DataFormatError(name, `${field}.data`, `truncated: ${size} bytes expected`);
      const data = body.subarray(0, size);

      if (typeflag === 'L') {
        longName = cString(data, 0, data.length);
        continue;
      }
      if (typeflag === 'x') {
        pax = parsePax(data, name);
        continue;
      }
      if (typeflag === 'g') continue; // global pax header: nothing kzr needs

      let path = cString(header, 0, 100);
      if (header.toString('ascii', 257, 262) === 'ustar') {
        const prefix = cString(header, 345, 155);
        if (prefix !== '') path = `${prefix}/${path}`;
      }
      path = pax.get('path') ?? longName ?? path;
      longName = undefined;
      pax = new Map();
      index++;
      const type =
        typeflag === '0' || typeflag === '\0' || typeflag === '7'
          ? TarEntryType.File
          : typeflag === '5'
            ? TarEntryType.Directory
            : TarEntryType.Other;
      yield { path, type, size, data: type === TarEntryType.File ? Buffer.from(data) : Buffer.alloc(0) };
    }
  } finally {
    await reader.close();
  }
}

/** One Kuzushiji-Kanji image. */
export interface KanjiImage {
  /** The class as a Kaggle code, for example `U+4E00`. */
  readonly code: string;
  /** The character itself. */
  readonly char: string;
  /** Path inside the archive. */
  readonly path: string;
  /** The PNG bytes (decode with {@link decodeGreyPng}). */
  readonly png: Buffer;
}

const KANJI_PATH = /(?:^|\/)U\+([0-9A-Fa-f]{4,6})\/[^/]+\.png$/;

/**
 * Iterates over the images of the Kuzushiji-Kanji archive (`kkanji.tar`): every `U+XXXX/*.png`
 * member, with its class. Directories and other members are skipped.
 */
export async function* readKuzushijiKanji(source: string | AsyncIterable<Buffer | string>): AsyncGenerator<KanjiImage> {
  for await (const entry of readTarEntries(source)) {
    if (entry.type !== TarEntryType.File) continue;
    const m = KANJI_PATH.exec(entry.path);
    if (!m) continue;
    const hex = m[1]!.toUpperCase();
    yield { code: `U+${hex}`, char: String.fromCodePoint(parseInt(hex, 16)), path: entry.path, png: entry.data };
  }
}

/** A decoded single-channel image. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  /** Row-major pixels, one byte each. */
  readonly pixels: Uint8Array;
}

/** Decodes a PNG (or any image sharp reads) to single-channel 8-bit pixels. */
export async function decodeGreyPng(png: Buffer): Promise<GreyImage> {
  const { data, info } = await sharp(png).removeAlpha().greyscale().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
