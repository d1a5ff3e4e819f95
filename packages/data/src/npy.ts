/**
 * NumPy `.npy` reader (format versions 1.0, 2.0 and 3.0) for plain numeric arrays, as KMNIST and
 * Kuzushiji-49 ship them (`|u1` images, `|u1` labels). Structured and object dtypes are rejected.
 */
import { DataFormatError } from './errors.js';

/** The numeric dtypes understood, by their NumPy name. */
export const NpyDtype = {
  Bool: 'bool',
  Int8: 'int8',
  Uint8: 'uint8',
  Int16: 'int16',
  Uint16: 'uint16',
  Int32: 'int32',
  Uint32: 'uint32',
  Int64: 'int64',
  Uint64: 'uint64',
  Float16: 'float16',
  Float32: 'float32',
  Float64: 'float64',
} as const;
export type NpyDtype = (typeof NpyDtype)[keyof typeof NpyDtype];

/** The typed array holding an array's elements (float16 stays as raw 16-bit words). */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A decoded `.npy` array. */
export interface NpyArray {
  /** NumPy dtype name, for example `uint8`. */
  readonly dtype: NpyDtype;
  /** Shape; `[]` for a 0-d array. */
  readonly shape: readonly number[];
  /**
   * True when the elements are in column-major (Fortran) order. The elements are returned as
   * stored, not transposed.
   */
  readonly fortranOrder: boolean;
  /** The elements in native byte order (big-endian files are swapped). */
  readonly data: NpyData;
}

interface DtypeInfo {
  readonly dtype: NpyDtype;
  readonly bytes: number;
  readonly make: (buffer: ArrayBuffer, count: number) => NpyData;
}

// Keyed by NumPy's kind letter and item size ('u1', 'f4', ...).
const DTYPES: Readonly<Record<string, DtypeInfo>> = {
  b1: { dtype: NpyDtype.Bool, bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i1: { dtype: NpyDtype.Int8, bytes: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u1: { dtype: NpyDtype.Uint8, bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i2: { dtype: NpyDtype.Int16, bytes: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u2: { dtype: NpyDtype.Uint16, bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i4: { dtype: NpyDtype.Int32, bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u4: { dtype: NpyDtype.Uint32, bytes: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i8: { dtype: NpyDtype.Int64, bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  u8: { dtype: NpyDtype.Uint64, bytes: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  f2: { dtype: NpyDtype.Float16, bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  f4: { dtype: NpyDtype.Float32, bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { dtype: NpyDtype.Float64, bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
};

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses the Python-literal header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseHeader(text: string, file: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) {
    throw new DataFormatError(file, 'header', `expected a dict literal, got ${JSON.stringify(trimmed.slice(0, 80))}`);
  }
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(trimmed);
  if (!descr) {
    const structured = /'descr'\s*:\s*\[/.test(trimmed);
    throw new DataFormatError(
      file,
      'header.descr',
      structured ? 'structured dtypes are not supported' : 'missing or not a string',
    );
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(trimmed);
  if (!fortran) throw new DataFormatError(file, 'header.fortran_order', 'missing or not True/False');
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(trimmed);
  if (!shapeMatch) throw new DataFormatError(file, 'header.shape', 'missing or not a tuple');
  const parts = shapeMatch[1]!
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const shape = parts.map((part) => {
    const cleaned = part.replace(/L$/, ''); // Python 2 long literals
    if (!/^\d+$/.test(cleaned)) throw new DataFormatError(file, 'header.shape', `dimension ${JSON.stringify(part)}`);
    return Number(cleaned);
  });
  return { descr: descr[1]!, fortranOrder: fortran[1] === 'True', shape };
}

/**
 * Decodes a `.npy` file held in memory.
 *
 * @param file - name used in error messages (for npz members, `archive.npz:arr_0.npy`).
 * @throws DataFormatError for a bad magic, header, unsupported dtype or a size mismatch.
 */
export function parseNpy(buf: Buffer, file = '<buffer>'): NpyArray {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new DataFormatError(file, 'magic', 'not a .npy file (missing \\x93NUMPY)');
  }
  const major = buf[6]!;
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new DataFormatError(file, 'header', 'truncated');
    headerLength = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new DataFormatError(file, 'version', `format version ${major}.${buf[7]} is not supported (1, 2 or 3)`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > buf.length) throw new DataFormatError(file, 'header', 'truncated');
  const headerText = buf.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart);
  const { descr, fortranOrder, shape } = parseHeader(headerText, file);

  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const info = m ? DTYPES[`${m[2]}${m[3]}`] : undefined;
  if (!m || !info) throw new DataFormatError(file, 'header.descr', `dtype ${JSON.stringify(descr)} is not supported`);
  const order = m[1]!;
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * info.bytes;
  const available = buf.length - dataStart;
  if (available !== byteLength) {
    throw new DataFormatError(
      file,
      'data',
      `shape (${shape.join(', ')}) of ${info.dtype} needs ${byteLength} bytes, found ${available}`,
    );
  }
  // Copy into a fresh, aligned buffer (the member may start at any offset).
  const copy = new ArrayBuffer(byteLength);
  const bytes = new Uint8Array(copy);
  bytes.set(buf.subarray(dataStart, dataStart + byteLength));
  const swap = info.bytes > 1 && ((order === '>' && LITTLE_ENDIAN_HOST) || (order === '<' && !LITTLE_ENDIAN_HOST));
  if (swap) {
    const view = Buffer.from(copy);
    if (info.bytes === 2) view.swap16();
    else if (info.bytes === 4) view.swap32();
    else view.swap64();
  }
  return { dtype: info.dtype, shape, fortranOrder, data: info.make(copy, count) };
}
