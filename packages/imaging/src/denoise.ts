/**
 * Colour denoising equal to OpenCV's `fastNlMeansDenoisingColored(src, h, hColor, 7, 21)`:
 * linear RGB -> Lab (`COLOR_LBGR2Lab` semantics), NL-means on L with `h` and on (a, b) together
 * with `hColor`, then Lab -> linear RGB. Works in true colour order: OpenCV holds BGR and
 * converts with the matching channel order, so the result is the same pixels.
 */
import { makeBorderReflect101 } from './border.js';
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

/** Converts to Lab and prepares the extended planes; `shared` puts them in SharedArrayBuffers. */
export function prepareDenoise(image: RawImage, options: DenoiseOptions = {}, shared = false): DenoiseJob {
  if (image.channels !== 3) {
    throw new GeometryError('channels', `colour denoising needs 3 channels, got ${image.channels}`);
  }
  const { width, height } = image;
  const params = { templateWindowSize: options.templateWindowSize, searchWindowSize: options.searchWindowSize };
  const planL = planNlMeans({ ...params, h: options.h ?? 20 }, 1);
  const planAb = planNlMeans({ ...params, h: options.hColor ?? 20 }, 2);
  const n = width * height;
  const l = new Uint8Array(n);
  const ab = new Uint8Array(2 * n);
  linearRgbToLab8(image.data, l, ab);
  const a = new Uint8Array(n);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = ab[2 * i]!;
    b[i] = ab[2 * i + 1]!;
  }
  const border = planL.border;
  const ext = (plane: Uint8Array): Uint8Array => {
    const e = makeBorderReflect101(plane, width, height, 1, border).data;
    const out = allocate(e.length, shared);
    out.set(e);
    return out;
  };
  return {
    width,
    height,
    planL,
    planAb,
    extL: ext(l),
    extA: ext(a),
    extB: ext(b),
    outL: allocate(n, shared),
    outA: allocate(n, shared),
    outB: allocate(n, shared),
  };
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

/** Converts a finished job's Lab planes back to an RGB image. */
export function finishDenoise(job: DenoiseJob): RawImage {
  const n = job.width * job.height;
  const ab = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    ab[2 * i] = job.outA[i]!;
    ab[2 * i + 1] = job.outB[i]!;
  }
  const rgb = new Uint8Array(3 * n);
  lab8ToLinearRgb(job.outL, ab, rgb);
  return { width: job.width, height: job.height, channels: 3, data: rgb };
}

/** Denoises in the calling thread (small images, tests); see `preprocessPage` for pages. */
export function denoiseColoredSync(image: RawImage, options: DenoiseOptions = {}): RawImage {
  const job = prepareDenoise(image, options);
  denoiseJobRows(job, 0, image.height);
  return finishDenoise(job);
}
