/**
 * A small pool of worker threads for row strips and crops. Tasks of one image share its
 * SharedArrayBuffers, so nothing is copied; idle workers do not keep the process alive. A task
 * still queued when its signal aborts is dropped, so a cancelled page stops within one task.
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
  readonly #queue: { task: StripTask; resolve: () => void; reject: (err: unknown) => void }[] = [];
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Runs `tasks`, resolving when all are done. Once `signal` aborts, the ones still queued are
   * dropped and the promise rejects with its reason (one abort listener per call, not per task).
   */
  runAll(tasks: readonly StripTask[], signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const items = tasks.map((task) => {
      let settle!: { resolve: () => void; reject: (err: unknown) => void };
      const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      return { task, done, ...settle };
    });
    const onAbort = (): void => {
      for (const item of items) {
        const at = this.#queue.indexOf(item);
        if (at >= 0) {
          this.#queue.splice(at, 1);
          item.reject(signal?.reason);
        }
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#queue.push(...items);
    this.#pump();
    return Promise.all(items.map((item) => item.done)).then(
      () => signal?.removeEventListener('abort', onAbort),
      (err: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        // The other tasks of the call settle on their own; their failures are this one's.
        for (const item of items) item.done.catch(() => {});
        throw err;
      },
    );
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

function poolOf(threads: number): StripPool {
  let pool = pools.get(threads);
  if (pool === undefined) {
    pool = new StripPool(threads);
    pools.set(threads, pool);
  }
  return pool;
}

/**
 * Pixels per strip a page is cut into at most (but at least {@link minStripRows} rows): about a
 * third of a second of denoising on one core, so a cancelled page stops within about that, and a
 * worker's kernel memory stays small.
 */
const stripPixels = 1 << 18;
/** Rows per strip at least: below the denoiser's tile height, strips cost noticeably more. */
const minStripRows = 64;

/**
 * Splits `[0, height)` into strips and runs `makeTask` for each on `threads` workers
 * (`threads` = 1 runs in the calling thread, a strip at a time, letting the event loop turn
 * between strips). Rejects with the signal's reason once it aborts; strips already running
 * finish in their workers, queued ones are dropped.
 */
export async function runStrips(
  height: number,
  width: number,
  threads: number,
  makeTask: (rowStart: number, rowEnd: number) => StripTask,
  runInline: (task: StripTask) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  // A few strips per thread keeps the threads busy until the end; big pages get more, smaller ones.
  const rowsPerStrip = Math.max(minStripRows, Math.floor(stripPixels / Math.max(1, width)));
  const strips = Math.min(height, Math.max(threads * 4, Math.ceil(height / rowsPerStrip)));
  const bounds: [number, number][] = [];
  for (let i = 0; i < strips; i++) {
    const rowStart = Math.floor((i * height) / strips);
    const rowEnd = Math.floor(((i + 1) * height) / strips);
    if (rowEnd > rowStart) bounds.push([rowStart, rowEnd]);
  }
  if (threads <= 1) {
    for (const [rowStart, rowEnd] of bounds) {
      signal?.throwIfAborted();
      await runInline(makeTask(rowStart, rowEnd));
      await yieldToEventLoop();
    }
    return;
  }
  const pool = poolOf(threads);
  await pool.runAll(
    bounds.map(([rowStart, rowEnd]) => makeTask(rowStart, rowEnd)),
    signal,
  );
}

/** Runs one task on the pool of `threads` workers (`threads` = 1 runs it in the calling thread). */
export async function runTask(
  task: StripTask,
  threads: number,
  runInline: (task: StripTask) => void | Promise<void>,
): Promise<void> {
  if (threads <= 1) {
    await runInline(task);
    await yieldToEventLoop();
    return;
  }
  await poolOf(threads).runAll([task]);
}

/** Lets pending I/O callbacks (health checks, other calls) run before the next piece of work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
