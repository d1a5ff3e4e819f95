/**
 * The safetensors file format (Hugging Face): an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}}`, then the raw little-endian data.
 * kzr stores the float32 weights of its zoo members in it, keyed by the model's variable names,
 * so they can be read by any safetensors reader.
 */
import { ValidationError } from '@kzr/platform';

/** One named float32 tensor. */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Encodes float32 tensors (in the given order) as a safetensors file. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.byteLength;
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Decodes a safetensors file holding float32 tensors; throws a ValidationError naming `field`. */
export function decodeSafetensors(bytes: Uint8Array, field = 'weights'): Map<string, NamedTensor> {
  if (bytes.length < 8) throw new ValidationError(field, 'too short for a safetensors file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8)
    throw new ValidationError(field, `header length ${headerLength} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    ) as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError(field, 'the safetensors header is not JSON', { cause: err });
  }
  const dataStart = 8 + headerLength;
  const out = new Map<string, NamedTensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (entry.dtype !== 'F32') throw new ValidationError(`${field}.${name}`, `dtype ${String(entry.dtype)} is not F32`);
    const shape = entry.shape as number[];
    const [begin, end] = entry.data_offsets as [number, number];
    const size = shape.reduce((a, c) => a * c, 1);
    if (!Array.isArray(shape) || end - begin !== size * 4 || dataStart + end > bytes.length) {
      throw new ValidationError(`${field}.${name}`, 'shape and data offsets disagree');
    }
    const data = new Float32Array(size);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    out.set(name, { name, shape, data });
  }
  return out;
}
