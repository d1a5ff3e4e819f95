/** Worker thread body: runs one strip of Ben's filter or of the denoiser on shared buffers. */
import { parentPort } from 'node:worker_threads';

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

parentPort?.on('message', async (task: StripTask) => {
  try {
    await runStripTask(task);
    parentPort?.postMessage({ ok: true });
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
