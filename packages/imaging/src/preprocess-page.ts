/**
 * The page preprocessing of spec §2.1: Ben's filter, then colour NL-means denoising, in true
 * colour order, on worker threads over row strips.
 *
 * Upstream wrote the result with `cv2.imwrite` on an RGB array, so its stored PNGs have R and B
 * swapped (spec §2.1, §9.1.3) and every later step read swapped colours. kzr keeps the true
 * order: both steps are symmetric in R and B except the Lab conversion, which is done in the
 * order matching the pixels, so the pixels equal OpenCV's on the correctly ordered image.
 */
import { prepareDenoise, finishDenoise, type DenoiseOptions } from './denoise.js';
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
  /** Worker threads; 1 computes in the calling thread. @default os.availableParallelism() */
  readonly threads?: number;
}

function sharedCopy(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(data.length));
  out.set(data);
  return out;
}

/** Ben's filter on a whole image (bit-exact with OpenCV 4.6 on 8-bit input). */
export async function benFilter(image: RawImage, threads = defaultThreads()): Promise<RawImage> {
  const src = threads > 1 ? sharedCopy(image.data) : image.data;
  const out = new Uint8Array(threads > 1 ? new SharedArrayBuffer(src.length) : new ArrayBuffer(src.length));
  await runStrips(
    image.height,
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
  );
  return { width: image.width, height: image.height, channels: image.channels, data: new Uint8Array(out) };
}

/** OpenCV `fastNlMeansDenoisingColored` (bit-exact with OpenCV 4.6 in tests so far). */
export async function denoiseColored(
  image: RawImage,
  options: DenoiseOptions = {},
  threads = defaultThreads(),
): Promise<RawImage> {
  const job = prepareDenoise(image, options, threads > 1);
  await runStrips(
    image.height,
    threads,
    (rowStart, rowEnd) => ({ kind: 'denoise', job, rowStart, rowEnd }),
    runStripTask,
  );
  return finishDenoise(job);
}

/** Ben's filter then denoising (either can be skipped) on a decoded RGB page. */
export async function preprocessPage(image: RawImage, options: PreprocessPageOptions = {}): Promise<RawImage> {
  if (image.channels !== 3) {
    throw new GeometryError('channels', `page preprocessing needs an RGB image, got ${image.channels} channels`);
  }
  const threads = options.threads ?? defaultThreads();
  let out = image;
  if (options.ben ?? true) out = await benFilter(out, threads);
  if (options.denoise ?? true) out = await denoiseColored(out, options, threads);
  return out === image ? { ...image, data: image.data.slice() } : out;
}
