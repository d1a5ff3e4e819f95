/**
 * Ben's filter (spec §2.1): `sat_u8(4·I − 4·G(I) + 128)` with G OpenCV's 8-bit Gaussian blur,
 * σ = 10, 61 taps, BORDER_REFLECT_101.
 *
 * OpenCV (≥ 3.4) blurs 8-bit images with a fixed-point separable filter: the kernel is the
 * bit-exact Gaussian quantised to 8 fraction bits by error diffusion (it sums to 256 exactly),
 * the horizontal pass keeps `Σ k·I` exactly (≤ 255·256 fits 16 bits), the vertical pass
 * multiplies again and rounds once: `(Σ k_y Σ k_x I + 2^15) >> 16`. `addWeighted` with integer
 * weights is exact. Reproducing those integers makes the result bit-exact.
 */
import { reflect101 } from './border.js';
import { roundHalfEven } from './rounding.js';

/** σ of Ben's Gaussian. */
export const benSigma = 10;

/** Taps of the 8-bit Gaussian for σ: OpenCV's `cvRound(σ·3·2 + 1) | 1` (61 for σ = 10). */
export function gaussianTaps8u(sigma: number): number {
  return roundHalfEven(sigma * 3 * 2 + 1) | 1;
}

/**
 * OpenCV's 8-bit fixed-point Gaussian kernel (`getGaussianKernelBitExact` then
 * `getGaussianKernelFixedPoint_ED` with 8 fraction bits): integers summing to 256.
 */
export function gaussianKernelFixedPoint(taps: number, sigma: number): Int32Array {
  const n = taps;
  const half = (n - 1) >> 1;
  const scale2X = -0.125 / (sigma * sigma);
  const values = new Float64Array(half);
  let sum = 0;
  for (let i = 0, x = 1 - n; i < half; i++, x += 2) {
    const t = Math.exp(x * x * scale2X);
    values[i] = t;
    sum += t;
  }
  sum = sum * 2 + 1;
  const mul = 1 / sum;
  const exact = new Float64Array(n);
  for (let i = 0; i < half; i++) {
    exact[i] = values[i]! * mul;
    exact[n - 1 - i] = exact[i]!;
  }
  exact[half] = mul;
  // Error diffusion to 8 fraction bits; the centre takes whatever makes the sum exactly 256.
  const kernel = new Int32Array(n);
  let err = 0;
  let fixedSum = 0;
  for (let i = 0; i < half; i++) {
    const adj = exact[i]! * 256 + err;
    const v = roundHalfEven(adj);
    err = adj - v;
    kernel[i] = v;
    kernel[n - 1 - i] = v;
    fixedSum += v;
  }
  kernel[half] = 256 - 2 * fixedSum;
  return kernel;
}

/**
 * Applies Ben's filter to output rows `[rowStart, rowEnd)` of an interleaved 8-bit image,
 * reading whatever rows the blur needs (reflect-101 at the image edges). Strips computed
 * separately are identical to the whole image computed at once.
 */
export function benRows(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  rowStart: number,
  rowEnd: number,
  out: Uint8Array,
  kernel: Int32Array = gaussianKernelFixedPoint(gaussianTaps8u(benSigma), benSigma),
): void {
  const n = kernel.length;
  const r = (n - 1) >> 1;
  const kc = kernel[r]!;
  const rowLen = width * channels;
  // Horizontal pass for the rows the vertical pass reads: exact sums Σ k·I (< 2^16).
  const firstIn = rowStart - r;
  const rowsIn = rowEnd - rowStart + 2 * r;
  const horiz = new Uint16Array(rowsIn * rowLen);
  const padded = new Uint8Array((width + 2 * r) * channels);
  const colMap = new Int32Array(width + 2 * r);
  for (let x = 0; x < width + 2 * r; x++) colMap[x] = reflect101(x - r, width);
  const cachedRows = new Map<number, number>();
  const nonZero: number[] = [];
  for (let t = 1; t <= r; t++) if (kernel[r - t] !== 0) nonZero.push(t);
  const nz = nonZero.length;
  const hOff = Int32Array.from(nonZero, (t) => t * channels);
  const hK = Int32Array.from(nonZero, (t) => kernel[r - t]!);
  for (let i = 0; i < rowsIn; i++) {
    const sy = reflect101(firstIn + i, height);
    const outRow = i * rowLen;
    const cached = cachedRows.get(sy);
    if (cached !== undefined) {
      horiz.copyWithin(outRow, cached, cached + rowLen);
      continue;
    }
    cachedRows.set(sy, outRow);
    const srcRow = sy * rowLen;
    for (let x = 0; x < width + 2 * r; x++) {
      const from = srcRow + colMap[x]! * channels;
      for (let c = 0; c < channels; c++) padded[x * channels + c] = src[from + c]!;
    }
    for (let i2 = 0; i2 < rowLen; i2++) {
      // padded index of the centre tap for output sample i2 is i2 + r * channels
      const centre = i2 + r * channels;
      let s = kc * padded[centre]!;
      for (let j = 0; j < nz; j++) {
        const off = hOff[j]!;
        s += hK[j]! * (padded[centre - off]! + padded[centre + off]!);
      }
      horiz[outRow + i2] = s;
    }
  }
  // Vertical pass, rounding once, then 4·I − 4·G + 128 saturated. Rows are accumulated whole
  // (sequential memory access), skipping zero taps.
  const acc = new Int32Array(rowLen);
  for (let y = rowStart; y < rowEnd; y++) {
    const centreRow = (y - rowStart + r) * rowLen;
    for (let i2 = 0; i2 < rowLen; i2++) acc[i2] = kc * horiz[centreRow + i2]!;
    for (const t of nonZero) {
      const k = kernel[r - t]!;
      const up = centreRow - t * rowLen;
      const down = centreRow + t * rowLen;
      for (let i2 = 0; i2 < rowLen; i2++) acc[i2] = acc[i2]! + k * (horiz[up + i2]! + horiz[down + i2]!);
    }
    const srcRow = y * rowLen;
    for (let i2 = 0; i2 < rowLen; i2++) {
      const blur = (acc[i2]! + 0x8000) >>> 16;
      const v = 4 * src[srcRow + i2]! - 4 * blur + 128;
      out[srcRow + i2] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}
