/**
 * Cutting many planned crops of one page without holding them all or blocking the event loop:
 * crops are cut in order, a few ahead of the consumer, on the worker pool (the page is shared
 * with the workers, copied once) or, with one thread, in the calling thread a crop at a time
 * with the event loop turning between crops. The signal stops the cutting between crops.
 */
import type { PlannedCrop } from './crop.js';
import { cutPlanned } from './crop.js';
import { defaultThreads, runTask, yieldToEventLoop } from './parallel.js';
import type { RawImage } from './raw-image.js';
import { runStripTask } from './strip-task.js';

/** Options of {@link cutCrops}. */
export interface CutCropsOptions {
  /** Worker threads; 1 cuts in the calling thread. @default os.availableParallelism() */
  readonly threads?: number;
  /** Stops the cutting (the generator throws the signal's reason). */
  readonly signal?: AbortSignal;
  /** Crops cut ahead of the consumer at most. @default 2 per thread */
  readonly ahead?: number;
}

function sharedPage(page: RawImage): RawImage {
  if (page.data.buffer instanceof SharedArrayBuffer) return page;
  const data = new Uint8Array(new SharedArrayBuffer(page.data.length));
  data.set(page.data);
  return { ...page, data };
}

/**
 * Cuts `crops` (from {@link planCrop} on this page) in order and yields each image as it is
 * ready; nothing is cut until the consumer asks, and at most `ahead` crops wait for it.
 */
export async function* cutCrops(
  page: RawImage,
  crops: readonly PlannedCrop[],
  options: CutCropsOptions = {},
): AsyncGenerator<RawImage> {
  const threads = options.threads ?? defaultThreads();
  const signal = options.signal;
  if (threads <= 1) {
    for (const crop of crops) {
      signal?.throwIfAborted();
      yield cutPlanned(page, crop);
      await yieldToEventLoop();
    }
    return;
  }
  const source = sharedPage(page);
  const ahead = Math.max(1, options.ahead ?? 2 * threads);
  const cut = (crop: PlannedCrop): Promise<RawImage> => {
    const out = new Uint8Array(new SharedArrayBuffer(crop.width * crop.height * crop.channels));
    // No signal per task: at most `ahead` crops are in flight, and the loop checks it between crops.
    const done = runTask({ kind: 'crop', page: source, crop, out }, threads, runStripTask).then(() => ({
      width: crop.width,
      height: crop.height,
      channels: crop.channels,
      // A plain copy: consumers may keep or transfer it.
      data: out.slice(),
    }));
    // Crops cut ahead may be abandoned (the consumer stopped); their failures are not unhandled.
    done.catch(() => {});
    return done;
  };
  const pending: Promise<RawImage>[] = [];
  let next = 0;
  while (next < crops.length && pending.length < ahead) pending.push(cut(crops[next++]!));
  while (pending.length > 0) {
    const image = await pending.shift()!;
    signal?.throwIfAborted();
    if (next < crops.length) pending.push(cut(crops[next++]!));
    yield image;
  }
}
