/** RGB -> grayscale exactly as PIL's `convert('L')` (spec §2.3). */
import { GeometryError } from './errors.js';
import { type RawImage } from './raw-image.js';

/**
 * Converts RGB to one channel with L = 0.299R + 0.587G + 0.114B in PIL's fixed point
 * (`(R*19595 + G*38470 + B*7471 + 0x8000) >> 16`), so results match PIL bit for bit.
 * A grayscale input is returned as a copy.
 */
export function toGrayscale(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  if (channels === 1) return { width, height, channels, data: data.slice() };
  if (channels !== 3) throw new GeometryError('channels', `expected 1 or 3 channels, got ${channels}`);
  const n = width * height;
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = (data[j]! * 19595 + data[j + 1]! * 38470 + data[j + 2]! * 7471 + 0x8000) >>> 16;
  }
  return { width, height, channels: 1, data: out };
}

/** Expands a grayscale image to three equal channels; an RGB input is returned as a copy. */
export function toRgb(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  if (channels === 3) return { width, height, channels, data: data.slice() };
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const v = data[i]!;
    out[j] = v;
    out[j + 1] = v;
    out[j + 2] = v;
  }
  return { width, height, channels: 3, data: out };
}
