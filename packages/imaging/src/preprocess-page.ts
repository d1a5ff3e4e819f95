/**
 * The page preprocessing of spec §2.1: Ben's filter, then colour NL-means denoising, in true
 * colour order, on worker threads over row strips.
 *
 * Upstream wrote the result with `cv2.imwrite` on an RGB array, so its stored PNGs have R and B
 * swapped (spec §2.1, §9.1.3) and every later step read swapped colours. kzr keeps the true
 * order: both steps are symmetric in R and B except the Lab conversion, which is done in the
 * order matching the pixels, so the pixels equal OpenCV's on the correctly ordered image.
 */
import { checkRgb, createDenoiseJob, type DenoiseOptions, extendBorders } from './denoise.js';
import { GeometryError } from './errors.js';
import { defaultThreads, runStrips } from './parallel.js';
import { type RawImage } from './raw-image.js';
import { runStripTask } from './strip-task.js';

/** Options of {@link preprocessPage}. */
export interface PreprocessPageOptions extends DenoiseOptions {
  /** Apply Ben's filter. @default true */
  readonly ben?: boolean;
  /** Apply the denoising. @default true */
  readonly denoise?: boolean;
  /**
   * Worker threads; 1 computes in the calling thread, a strip at a time with the event loop
   * turning between strips. @default os.availableParallelism()
   */
  readonly threads?: number;
  /** Stops the work between strips (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

function sharedCopy(data: Uint8Array): Uint8Array {
  if (data.buffer instanceof SharedArrayBuffer) return data;
  const out = new Uint8Array(new SharedArrayBuffer(data.length));
  out.set(data);
  return out;
}

function allocate(bytes: number, shared: boolean): Uint8Array {
  return new Uint8Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** The image with its samples in an ordinary ArrayBuffer (the strips may leave them shared). */
function plain(image: RawImage): RawImage {
  return image.data.buffer instanceof SharedArrayBuffer ? { ...image, data: image.data.slice() } : image;
}

/** Ben's filter on a whole image (bit-exact with OpenCV 4.6 on 8-bit input). */
export async function benFilter(image: RawImage, threads = defaultThreads(), signal?: AbortSignal): Promise<RawImage> {
  return plain(await benStrips(image, threads, signal));
}

async function benStrips(image: RawImage, threads: number, signal: AbortSignal | undefined): Promise<RawImage> {
  const src = threads > 1 ? sharedCopy(image.data) : image.data;
  const out = allocate(src.length, threads > 1);
  await runStrips(
    image.height,
    image.width,
    threads,
    (rowStart, rowEnd) => ({
      kind: 'ben',
      src,
      out,
      width: image.width,
      height: image.height,
      channels: image.channels,
      rowStart,
      rowEnd,
    }),
    runStripTask,
    signal,
  );
  return { width: image.width, height: image.height, channels: image.channels, data: out };
}

/**
 * OpenCV `fastNlMeansDenoisingColored` (bit-exact with OpenCV 4.6 in tests so far). Every
 * per-pixel step (to Lab, the denoising, back to RGB) runs in strips, so with worker threads the
 * calling thread only copies and fills borders.
 */
export async function denoiseColored(
  image: RawImage,
  options: DenoiseOptions = {},
  threads = defaultThreads(),
  signal?: AbortSignal,
): Promise<RawImage> {
  return plain(await denoiseStrips(image, options, threads, signal));
}

async function denoiseStrips(
  image: RawImage,
  options: DenoiseOptions,
  threads: number,
  signal: AbortSignal | undefined,
): Promise<RawImage> {
  checkRgb(image);
  const shared = threads > 1;
  const { width, height } = image;
  const job = createDenoiseJob(width, height, options, shared);
  const src = shared ? sharedCopy(image.data) : image.data;
  const out = allocate(3 * width * height, shared);
  await runStrips(
    height,
    width,
    threads,
    (rowStart, rowEnd) => ({ kind: 'lab', job, src, rowStart, rowEnd }),
    runStripTask,
    signal,
  );
  extendBorders(job);
  await runStrips(
    height,
    width,
    threads,
    (rowStart, rowEnd) => ({ kind: 'denoise', job, rowStart, rowEnd }),
    runStripTask,
    signal,
  );
  await runStrips(
    height,
    width,
    threads,
    (rowStart, rowEnd) => ({ kind: 'rgb', job, out, rowStart, rowEnd }),
    runStripTask,
    signal,
  );
  return { width, height, channels: 3, data: out };
}

/** Ben's filter then denoising (either can be skipped) on a decoded RGB page. */
export async function preprocessPage(image: RawImage, options: PreprocessPageOptions = {}): Promise<RawImage> {
  if (image.channels !== 3) {
    throw new GeometryError('channels', `page preprocessing needs an RGB image, got ${image.channels} channels`);
  }
  const threads = options.threads ?? defaultThreads();
  options.signal?.throwIfAborted();
  let out = image;
  if (options.ben ?? true) out = await benStrips(out, threads, options.signal);
  if (options.denoise ?? true) out = await denoiseStrips(out, options, threads, options.signal);
  return out === image ? { ...image, data: image.data.slice() } : plain(out);
}
