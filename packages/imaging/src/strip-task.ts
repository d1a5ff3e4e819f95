/**
 * One strip of Ben's filter or of the denoiser, or one character crop, on shared buffers: what a
 * strip worker (strip-worker.ts) runs, and what the calling thread runs itself with one thread. Apart from the
 * worker's entry module, so that importing the package never installs a message handler in a
 * thread that is not a strip worker (a training batch worker imports `@kzr/imaging` too).
 */
import { benRowsWasm, ensureBenWasm } from './ben-wasm.js';
import { cutPlanned, type PlannedCrop } from './crop.js';
import { denoiseJobRows, type DenoiseJob, labRows, rgbRows } from './denoise.js';
import { ensureNlMeansWasm } from './nlmeans-wasm.js';
import type { RawImage } from './raw-image.js';

/** A strip to compute; buffers are SharedArrayBuffer-backed. */
export type StripTask =
  | {
      readonly kind: 'ben';
      readonly src: Uint8Array;
      readonly out: Uint8Array;
      readonly width: number;
      readonly height: number;
      readonly channels: number;
      readonly rowStart: number;
      readonly rowEnd: number;
    }
  | { readonly kind: 'denoise'; readonly job: DenoiseJob; readonly rowStart: number; readonly rowEnd: number }
  /** RGB rows of `src` to the job's Lab input planes. */
  | {
      readonly kind: 'lab';
      readonly job: DenoiseJob;
      readonly src: Uint8Array;
      readonly rowStart: number;
      readonly rowEnd: number;
    }
  /** The job's denoised Lab rows back to RGB, into `out`. */
  | {
      readonly kind: 'rgb';
      readonly job: DenoiseJob;
      readonly out: Uint8Array;
      readonly rowStart: number;
      readonly rowEnd: number;
    }
  /** One crop of `page` into `out` (`crop.width * crop.height * crop.channels` bytes). */
  | { readonly kind: 'crop'; readonly page: RawImage; readonly crop: PlannedCrop; readonly out: Uint8Array };

/** Runs a strip in the current thread on the WebAssembly kernels (compiled on first use). */
export async function runStripTask(task: StripTask): Promise<void> {
  if (task.kind === 'crop') {
    task.out.set(cutPlanned(task.page, task.crop).data);
  } else if (task.kind === 'lab') {
    labRows(task.job, task.src, task.rowStart, task.rowEnd);
  } else if (task.kind === 'rgb') {
    rgbRows(task.job, task.out, task.rowStart, task.rowEnd);
  } else if (task.kind === 'ben') {
    await ensureBenWasm();
    benRowsWasm(task.src, task.width, task.height, task.channels, task.rowStart, task.rowEnd, task.out);
  } else {
    await ensureNlMeansWasm();
    denoiseJobRows(task.job, task.rowStart, task.rowEnd);
  }
}
