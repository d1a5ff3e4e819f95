/**
 * Bicubic resampling bit-exact with PIL's `Image.resize(size, Image.BICUBIC)` (Pillow's
 * `Resample.c`: Keys cubic a = -0.5, support widened by the scale when reducing, 8-bit
 * coefficients with 22 fraction bits, horizontal pass then vertical pass).
 */
import { GeometryError } from './errors.js';
import { type RawImage } from './raw-image.js';

const precisionBits = 32 - 8 - 2;
const bicubicSupport = 2;

function bicubic(xIn: number): number {
  const a = -0.5;
  const x = xIn < 0 ? -xIn : xIn;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  /** Taps per output sample. */
  readonly kernelSize: number;
  /** First input index of each output sample. */
  readonly start: Int32Array;
  /** Number of taps of each output sample. */
  readonly count: Int32Array;
  /** `outSize * kernelSize` fixed-point weights. */
  readonly weights: Int32Array;
}

function precomputeCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = bicubicSupport * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kernelSize);
  const k = new Float64Array(kernelSize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      const scaled = w * (1 << precisionBits);
      // C's (int) cast truncates towards zero after the ±0.5 of Pillow's normalize_coeffs_8bpc.
      weights[xx * kernelSize + x] = w < 0 ? Math.trunc(-0.5 + scaled) : Math.trunc(0.5 + scaled);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { kernelSize, start, count, weights };
}

// Crops come in a limited set of sizes, so the coefficients are worth keeping.
const coefficientCache = new Map<number, Coefficients>();
const maxCachedCoefficients = 1024;

function coefficients(inSize: number, outSize: number): Coefficients {
  const key = inSize * 65536 + outSize;
  let c = coefficientCache.get(key);
  if (c === undefined) {
    if (coefficientCache.size >= maxCachedCoefficients) coefficientCache.clear();
    c = precomputeCoefficients(inSize, outSize);
    coefficientCache.set(key, c);
  }
  return c;
}

function clip8(v: number): number {
  const s = v >> precisionBits;
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/**
 * Resizes to `outWidth` x `outHeight` with bicubic resampling, ignoring the aspect ratio,
 * exactly as PIL does for 8-bit L and RGB images.
 */
export function resizeBicubic(image: RawImage, outWidth: number, outHeight: number): RawImage {
  if (!Number.isInteger(outWidth) || outWidth <= 0 || !Number.isInteger(outHeight) || outHeight <= 0) {
    throw new GeometryError('size', `resize target must be positive integers, got ${outWidth}x${outHeight}`);
  }
  const { width, height, channels } = image;
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  const vertical = coefficients(height, outHeight);
  let src = image.data;
  let srcWidth = width;
  let srcHeight = height;
  let rowShift = 0;
  if (needHorizontal) {
    const horizontal = coefficients(width, outWidth);
    // Only the rows the vertical pass reads (Pillow's ybox_first..ybox_last).
    const first = vertical.start[0]!;
    const last = vertical.start[outHeight - 1]! + vertical.count[outHeight - 1]!;
    const rows = needVertical ? last - first : height;
    const rowOffset = needVertical ? first : 0;
    const tmp = new Uint8Array(outWidth * rows * channels);
    const { kernelSize, start, count, weights } = horizontal;
    for (let y = 0; y < rows && channels === 1; y++) {
      // Grayscale, the common case for crops: no channel loop.
      const inRow = (y + rowOffset) * width;
      const outRow = y * outWidth;
      for (let xx = 0; xx < outWidth; xx++) {
        const kOff = xx * kernelSize;
        const p = inRow + start[xx]!;
        const n = count[xx]!;
        let ss = 1 << (precisionBits - 1);
        for (let x = 0; x < n; x++) ss += src[p + x]! * weights[kOff + x]!;
        tmp[outRow + xx] = clip8(ss);
      }
    }
    for (let y = 0; y < rows && channels !== 1; y++) {
      const inRow = (y + rowOffset) * width * channels;
      const outRow = y * outWidth * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const kOff = xx * kernelSize;
        const xmin = start[xx]!;
        const n = count[xx]!;
        for (let c = 0; c < channels; c++) {
          let ss = 1 << (precisionBits - 1);
          let p = inRow + xmin * channels + c;
          for (let x = 0; x < n; x++, p += channels) ss += src[p]! * weights[kOff + x]!;
          tmp[outRow + xx * channels + c] = clip8(ss);
        }
      }
    }
    src = tmp;
    srcWidth = outWidth;
    srcHeight = rows;
    rowShift = rowOffset;
  }
  if (!needVertical) {
    return { width: srcWidth, height: srcHeight, channels, data: src === image.data ? src.slice() : src };
  }
  const out = new Uint8Array(srcWidth * outHeight * channels);
  const { kernelSize, start, count, weights } = vertical;
  const stride = srcWidth * channels;
  // Whole rows at a time (sequential memory access); the sums are the same integers.
  const acc = new Int32Array(stride);
  for (let yy = 0; yy < outHeight; yy++) {
    const kOff = yy * kernelSize;
    const ymin = start[yy]! - rowShift;
    const n = count[yy]!;
    acc.fill(1 << (precisionBits - 1));
    for (let y = 0; y < n; y++) {
      const w = weights[kOff + y]!;
      const row = (ymin + y) * stride;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + src[row + i]! * w;
    }
    const outRow = yy * stride;
    for (let i = 0; i < stride; i++) out[outRow + i] = clip8(acc[i]!);
  }
  return { width: srcWidth, height: outHeight, channels, data: out };
}

/** Resizes to a `size` x `size` square with PIL bicubic, ignoring the aspect ratio (spec §2.3). */
export function resizeSquare(image: RawImage, size: number): RawImage {
  return resizeBicubic(image, size, size);
}
