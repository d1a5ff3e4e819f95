/** Worker thread body: runs one strip of Ben's filter or of the denoiser on shared buffers. */
import { parentPort } from 'node:worker_threads';

import { benRows } from './ben.js';
import { benRowsWasm, benWasmReady, ensureBenWasm } from './ben-wasm.js';
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

/** Runs a strip in the current thread. */
export function runStripTask(task: StripTask): void {
  if (task.kind === 'ben') {
    const rows = benWasmReady() ? benRowsWasm : benRows;
    rows(task.src, task.width, task.height, task.channels, task.rowStart, task.rowEnd, task.out);
  } else {
    denoiseJobRows(task.job, task.rowStart, task.rowEnd);
  }
}

/** Runs a strip in the current thread, on the WebAssembly kernel for denoising. */
export async function runStripTaskFast(task: StripTask): Promise<void> {
  await (task.kind === 'denoise' ? ensureNlMeansWasm() : ensureBenWasm());
  runStripTask(task);
}

parentPort?.on('message', async (task: StripTask) => {
  try {
    await runStripTaskFast(task);
    parentPort?.postMessage({ ok: true });
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
