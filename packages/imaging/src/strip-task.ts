/**
 * One strip of Ben's filter or of the denoiser on shared buffers: what a strip worker
 * (strip-worker.ts) runs, and what the calling thread runs itself with one thread. Apart from the
 * worker's entry module, so that importing the package never installs a message handler in a
 * thread that is not a strip worker (a training batch worker imports `@kzr/imaging` too).
 */
import { benRowsWasm, ensureBenWasm } from './ben-wasm.js';
import { denoiseJobRows, type DenoiseJob } from './denoise.js';
import { ensureNlMeansWasm } from './nlmeans-wasm.js';

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
  | { readonly kind: 'denoise'; readonly job: DenoiseJob; readonly rowStart: number; readonly rowEnd: number };

/** Runs a strip in the current thread on the WebAssembly kernels (compiled on first use). */
export async function runStripTask(task: StripTask): Promise<void> {
  if (task.kind === 'ben') {
    await ensureBenWasm();
    benRowsWasm(task.src, task.width, task.height, task.channels, task.rowStart, task.rowEnd, task.out);
  } else {
    await ensureNlMeansWasm();
    denoiseJobRows(task.job, task.rowStart, task.rowEnd);
  }
}
