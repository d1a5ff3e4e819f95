/**
 * A small pool of worker threads for row strips. Strips of one image share its
 * SharedArrayBuffers, so nothing is copied; idle workers do not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import type { StripTask } from './strip-task.js';

interface Slot {
  readonly worker: Worker;
  busy: boolean;
}

const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(fromSource ? './strip-worker.ts' : './strip-worker.js', import.meta.url);

function startWorker(): Worker {
  if (!fromSource) return new Worker(workerUrl);
  // Running from TypeScript sources (tsx in development and tests): loader hooks registered in
  // the main thread do not reach workers, so the worker registers tsx itself first.
  const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

class StripPool {
  readonly #slots: Slot[] = [];
  readonly #queue: { task: StripTask; resolve: () => void; reject: (err: Error) => void }[] = [];
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  run(task: StripTask): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.busy);
      if (slot === undefined && this.#slots.length < this.#size) {
        const worker = startWorker();
        worker.unref();
        slot = { worker, busy: false };
        this.#slots.push(slot);
      }
      if (slot === undefined) return;
      const item = this.#queue.shift()!;
      const s = slot;
      s.busy = true;
      s.worker.ref();
      const onMessage = (msg: { ok: boolean; error?: string }): void => {
        s.worker.off('error', onError);
        s.busy = false;
        s.worker.unref();
        if (msg.ok) item.resolve();
        else item.reject(new Error(msg.error ?? 'strip failed'));
        this.#pump();
      };
      const onError = (err: Error): void => {
        s.worker.off('message', onMessage);
        this.#slots.splice(this.#slots.indexOf(s), 1);
        item.reject(err);
        this.#pump();
      };
      s.worker.once('message', onMessage);
      s.worker.once('error', onError);
      s.worker.postMessage(item.task);
    }
  }
}

const pools = new Map<number, StripPool>();

/** Default number of threads for page work: the machine's available parallelism. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Splits `[0, height)` into strips and runs `makeTask` for each on `threads` workers
 * (`threads` = 1 runs in the calling thread).
 */
export async function runStrips(
  height: number,
  threads: number,
  makeTask: (rowStart: number, rowEnd: number) => StripTask,
  runInline: (task: StripTask) => void | Promise<void>,
): Promise<void> {
  if (threads <= 1) {
    await runInline(makeTask(0, height));
    return;
  }
  let pool = pools.get(threads);
  if (pool === undefined) {
    pool = new StripPool(threads);
    pools.set(threads, pool);
  }
  // A few strips per thread keeps the threads busy until the end.
  const strips = Math.min(height, threads * 4);
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < strips; i++) {
    const rowStart = Math.floor((i * height) / strips);
    const rowEnd = Math.floor(((i + 1) * height) / strips);
    if (rowEnd > rowStart) tasks.push(pool.run(makeTask(rowStart, rowEnd)));
  }
  await Promise.all(tasks);
}
