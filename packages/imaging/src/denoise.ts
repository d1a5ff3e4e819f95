/**
 * Colour denoising equal to OpenCV's `fastNlMeansDenoisingColored(src, h, hColor, 7, 21)`:
 * linear RGB -> Lab (`COLOR_LBGR2Lab` semantics), NL-means on L with `h` and on (a, b) together
 * with `hColor`, then Lab -> linear RGB. Works in true colour order: OpenCV holds BGR and
 * converts with the matching channel order, so the result is the same pixels.
 */
import { reflect101 } from './border.js';
import { GeometryError } from './errors.js';
import { lab8ToLinearRgb, linearRgbToLab8 } from './lab.js';
import { nlMeansRows, type NlMeansPlan, planNlMeans } from './nlmeans.js';
import { nlMeansRowsWasm, nlMeansWasmReady } from './nlmeans-wasm.js';
import { type RawImage } from './raw-image.js';

/** Options of the colour denoiser (defaults: the upstream pipeline's "twice the recommended strength"). */
export interface DenoiseOptions {
  /** Strength for the L channel. @default 20 */
  readonly h?: number;
  /** Strength for a and b. @default 20 */
  readonly hColor?: number;
  /** @default 7 */
  readonly templateWindowSize?: number;
  /** @default 21 */
  readonly searchWindowSize?: number;
}

/** The planes and plans of one denoising job, ready to be split into row strips. */
export interface DenoiseJob {
  readonly width: number;
  readonly height: number;
  readonly planL: NlMeansPlan;
  readonly planAb: NlMeansPlan;
  /** Extended (reflect-101 border) input planes: L, a, b. */
  readonly extL: Uint8Array;
  readonly extA: Uint8Array;
  readonly extB: Uint8Array;
  /** Output planes: L, a, b. */
  readonly outL: Uint8Array;
  readonly outA: Uint8Array;
  readonly outB: Uint8Array;
}

function allocate(bytes: number, shared: boolean): Uint8Array {
  return new Uint8Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/**
 * Allocates a denoising job for a `width` x `height` RGB image (`shared` puts its planes in
 * SharedArrayBuffers); {@link labRows} and {@link extendBorders} then fill its input planes.
 */
export function createDenoiseJob(
  width: number,
  height: number,
  options: DenoiseOptions = {},
  shared = false,
): DenoiseJob {
  const params = { templateWindowSize: options.templateWindowSize, searchWindowSize: options.searchWindowSize };
  const planL = planNlMeans({ ...params, h: options.h ?? 20 }, 1);
  const planAb = planNlMeans({ ...params, h: options.hColor ?? 20 }, 2);
  const n = width * height;
  const ext = (width + 2 * planL.border) * (height + 2 * planL.border);
  return {
    width,
    height,
    planL,
    planAb,
    extL: allocate(ext, shared),
    extA: allocate(ext, shared),
    extB: allocate(ext, shared),
    outL: allocate(n, shared),
    outA: allocate(n, shared),
    outB: allocate(n, shared),
  };
}

/** Converts rows `[rowStart, rowEnd)` of the RGB image `rgb` to Lab, into the job's input planes (inside the border). */
export function labRows(job: DenoiseJob, rgb: Uint8Array, rowStart: number, rowEnd: number): void {
  const { width } = job;
  const border = job.planL.border;
  const ew = width + 2 * border;
  const n = (rowEnd - rowStart) * width;
  const l = new Uint8Array(n);
  const ab = new Uint8Array(2 * n);
  linearRgbToLab8(rgb.subarray(rowStart * width * 3, rowEnd * width * 3), l, ab);
  for (let y = rowStart; y < rowEnd; y++) {
    const from = (y - rowStart) * width;
    const to = (y + border) * ew + border;
    job.extL.set(l.subarray(from, from + width), to);
    for (let x = 0; x < width; x++) {
      job.extA[to + x] = ab[2 * (from + x)]!;
      job.extB[to + x] = ab[2 * (from + x) + 1]!;
    }
  }
}

/**
 * Fills the border of the job's input planes once every row is in (OpenCV `copyMakeBorder`,
 * BORDER_REFLECT_101): a few columns per row and a few whole rows.
 */
export function extendBorders(job: DenoiseJob): void {
  const { width, height } = job;
  const border = job.planL.border;
  const ew = width + 2 * border;
  const cols = new Int32Array(ew);
  for (let x = 0; x < ew; x++) cols[x] = reflect101(x - border, width) + border;
  for (const plane of [job.extL, job.extA, job.extB]) {
    for (let y = border; y < height + border; y++) {
      const row = y * ew;
      for (let x = 0; x < border; x++) {
        plane[row + x] = plane[row + cols[x]!]!;
        plane[row + ew - 1 - x] = plane[row + cols[ew - 1 - x]!]!;
      }
    }
    for (let y = 0; y < border; y++) {
      for (const to of [y, height + 2 * border - 1 - y]) {
        const from = reflect101(to - border, height) + border;
        plane.copyWithin(to * ew, from * ew, (from + 1) * ew);
      }
    }
  }
}

/** Converts to Lab and prepares the extended planes in the calling thread; `shared` puts them in SharedArrayBuffers. */
export function prepareDenoise(image: RawImage, options: DenoiseOptions = {}, shared = false): DenoiseJob {
  checkRgb(image);
  const job = createDenoiseJob(image.width, image.height, options, shared);
  labRows(job, image.data, 0, image.height);
  extendBorders(job);
  return job;
}

/** Throws unless the image has the 3 channels colour denoising needs. */
export function checkRgb(image: RawImage): void {
  if (image.channels !== 3) {
    throw new GeometryError('channels', `colour denoising needs 3 channels, got ${image.channels}`);
  }
}

/**
 * Denoises rows `[rowStart, rowEnd)` of a prepared job (L, then a and b together), on the
 * WebAssembly kernel once `ensureNlMeansWasm()` has run in this thread, else in JavaScript.
 */
export function denoiseJobRows(job: DenoiseJob, rowStart: number, rowEnd: number): void {
  const rows = nlMeansWasmReady() ? nlMeansRowsWasm : nlMeansRows;
  rows(job.planL, [job.extL], job.width, [job.outL], rowStart, rowEnd);
  rows(job.planAb, [job.extA, job.extB], job.width, [job.outA, job.outB], rowStart, rowEnd);
}

/** Converts rows `[rowStart, rowEnd)` of a finished job's Lab planes back to RGB, into `out` (the whole image's samples). */
export function rgbRows(job: DenoiseJob, out: Uint8Array, rowStart: number, rowEnd: number): void {
  const { width } = job;
  const from = rowStart * width;
  const to = rowEnd * width;
  const ab = new Uint8Array(2 * (to - from));
  for (let i = from; i < to; i++) {
    ab[2 * (i - from)] = job.outA[i]!;
    ab[2 * (i - from) + 1] = job.outB[i]!;
  }
  lab8ToLinearRgb(job.outL.subarray(from, to), ab, out.subarray(3 * from, 3 * to));
}

/** Converts a finished job's Lab planes back to an RGB image. */
export function finishDenoise(job: DenoiseJob): RawImage {
  const rgb = new Uint8Array(3 * job.width * job.height);
  rgbRows(job, rgb, 0, job.height);
  return { width: job.width, height: job.height, channels: 3, data: rgb };
}

/** Denoises in the calling thread (small images, tests); see `preprocessPage` for pages. */
export function denoiseColoredSync(image: RawImage, options: DenoiseOptions = {}): RawImage {
  const job = prepareDenoise(image, options);
  denoiseJobRows(job, 0, image.height);
  return finishDenoise(job);
}
