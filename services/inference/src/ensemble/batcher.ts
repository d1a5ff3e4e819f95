/**
 * Dynamic batching per model: rows (TTA views) from concurrent requests are queued and run
 * together, up to `maxBatch` rows, waiting at most `maxDelayMs` after the first queued row.
 * One batch runs at a time per model; the next one fills while it runs. A request larger than
 * `maxBatch` is split across batches and reassembled. The queue is bounded: a request arriving
 * while `maxQueue` rows wait is refused with a ResourceExhaustedError (gRPC RESOURCE_EXHAUSTED)
 * instead of waiting without limit (STYLE §11).
 */
import { ResourceExhaustedError } from '@kzr/platform';

import { type InferenceEngine } from '../engine/engine.js';

/** Batching limits. */
export interface BatchingOptions {
  /** Largest batch in rows (views). @default 64 */
  readonly maxBatch?: number;
  /** Longest wait for more rows after the first one arrives, in ms. @default 2 */
  readonly maxDelayMs?: number;
  /**
   * Most rows waiting; a request arriving while this many wait is refused. A request is never
   * cut, so the queue may exceed the bound by the rows of the last request accepted.
   * @default 4096
   */
  readonly maxQueue?: number;
}

/** What a batcher reports (metrics hooks). */
export interface BatchObserver {
  /** After each batch ran. */
  onBatch?(rows: number, requests: number, durationMs: number): void;
  /** When a request of `rows` rows was refused because the queue was full. */
  onReject?(rows: number): void;
}

interface Pending {
  readonly input: Float32Array;
  readonly rows: number;
  readonly resolve: (logits: Float32Array) => void;
  readonly reject: (err: unknown) => void;
}

/** Queues rows for one engine and runs them in batches. */
export class DynamicBatcher {
  readonly maxBatch: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  private readonly engine: InferenceEngine;
  private readonly rowSize: number;
  private readonly observer: BatchObserver;
  private readonly queue: Pending[] = [];
  private queuedRows = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private deadlinePassed = false;

  constructor(engine: InferenceEngine, rowSize: number, options: BatchingOptions = {}, observer: BatchObserver = {}) {
    this.engine = engine;
    this.rowSize = rowSize;
    this.maxBatch = options.maxBatch ?? 64;
    this.maxDelayMs = options.maxDelayMs ?? 2;
    this.maxQueue = options.maxQueue ?? 4096;
    this.observer = observer;
  }

  /** Rows waiting for a batch. */
  get queueDepth(): number {
    return this.queuedRows;
  }

  /**
   * Runs `rows` rows (row-major, `rowSize` values each) and resolves with their logits.
   * @throws ResourceExhaustedError when `maxQueue` rows are waiting already.
   */
  async submit(input: Float32Array, rows: number): Promise<Float32Array> {
    if (rows === 0) return new Float32Array(0);
    if (this.queuedRows >= this.maxQueue) {
      this.observer.onReject?.(rows);
      throw new ResourceExhaustedError('the batch queue', 'KZR_INFERENCE_MAX_QUEUE', this.maxQueue);
    }
    const parts: Array<Promise<Float32Array>> = [];
    for (let start = 0; start < rows; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, rows - start);
      const slice = input.subarray(start * this.rowSize, (start + n) * this.rowSize);
      parts.push(
        new Promise<Float32Array>((resolve, reject) => {
          this.queue.push({ input: slice, rows: n, resolve, reject });
          this.queuedRows += n;
        }),
      );
    }
    this.schedule();
    const results = await Promise.all(parts);
    if (results.length === 1) return results[0]!;
    const out = new Float32Array(rows * this.engine.numClasses);
    let at = 0;
    for (const r of results) {
      out.set(r, at);
      at += r.length;
    }
    return out;
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queuedRows >= this.maxBatch || this.deadlinePassed || this.maxDelayMs <= 0) {
      this.runBatch();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.deadlinePassed = true;
      this.schedule();
    }, this.maxDelayMs);
  }

  private runBatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadlinePassed = false;
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0 && rows + this.queue[0]!.rows <= this.maxBatch) {
      const p = this.queue.shift()!;
      batch.push(p);
      rows += p.rows;
    }
    this.queuedRows -= rows;
    const input = new Float32Array(rows * this.rowSize);
    let at = 0;
    for (const p of batch) {
      input.set(p.input, at);
      at += p.input.length;
    }
    this.running = true;
    const started = performance.now();
    this.engine.run(input, rows).then(
      (logits) => {
        const k = this.engine.numClasses;
        let row = 0;
        for (const p of batch) {
          p.resolve(logits.slice(row * k, (row + p.rows) * k));
          row += p.rows;
        }
        this.observer.onBatch?.(rows, batch.length, performance.now() - started);
        this.finishBatch();
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
        this.finishBatch();
      },
    );
  }

  private finishBatch(): void {
    this.running = false;
    // Rows that queued while the batch ran have waited long enough once the queue is full or
    // their delay passed; otherwise a fresh delay starts for them.
    this.schedule();
  }
}
