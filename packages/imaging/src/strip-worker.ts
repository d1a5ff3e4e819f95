/** Worker thread body of the strip pool (parallel.ts): runs each posted strip, replies when done. */
import { parentPort } from 'node:worker_threads';

import { runStripTask, type StripTask } from './strip-task.js';

parentPort?.on('message', async (task: StripTask) => {
  try {
    await runStripTask(task);
    parentPort?.postMessage({ ok: true });
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
