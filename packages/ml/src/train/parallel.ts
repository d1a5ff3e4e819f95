/**
 * Data-parallel training over worker threads, for backends that use one core per process
 * (wasm under Node has no threads). Shard 0 of every batch runs on the trainer's own model;
 * shards 1… run in {@link ./grad-worker.ts} threads that read the current weights each step from
 * shared memory and write their gradients into shared memory.
 * Gradients are averaged weighted by shard size (summed for the refinement loss), so the update
 * equals a full-batch step except for batch norm, which normalises each shard with its own
 * statistics (PyTorch DataParallel semantics); running statistics come from shard 0.
 */
import type { Worker } from 'node:worker_threads';

import { type BackendName } from '../backend/select-backend.js';
import { MlError, MlErrorKind } from '../errors.js';
import { type ArchitectureConfig } from '../models/types.js';
import { startSiblingWorker } from './batch-prep.js';
import type { GradReply, GradRequest } from './grad-worker.js';

/** A pool of gradient workers. */
export class GradWorkerPool {
  /**
   * The weights every worker reads at the start of a step (shared memory: the trainer writes
   * them before {@link run}, and nothing is copied per message).
   */
  readonly params: Float32Array;
  private readonly workers: Worker[];
  /** Per worker, the shared memory its flattened gradients are written into. */
  private readonly grads: Float32Array[];

  private constructor(workers: Worker[], params: Float32Array, grads: Float32Array[]) {
    this.workers = workers;
    this.params = params;
    this.grads = grads;
  }

  /** Starts `count` workers building `model` (with `paramCount` trainable scalars) on `backend`. */
  static async start(
    count: number,
    backend: BackendName,
    model: ArchitectureConfig,
    crop: number,
    paramCount: number,
  ): Promise<GradWorkerPool> {
    const params = new Float32Array(new SharedArrayBuffer(4 * paramCount));
    const grads = Array.from({ length: count }, () => new Float32Array(new SharedArrayBuffer(4 * paramCount)));
    const workers = grads.map((g) =>
      startSiblingWorker('grad-worker', { backend, model, crop, params: params.buffer, grads: g.buffer }),
    );
    const pool = new GradWorkerPool(workers, params, grads);
    try {
      await Promise.all(workers.map((w) => pool.next(w)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  private next(worker: Worker): Promise<GradReply | { ready: true }> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: GradReply | { ready: true }): void => {
        cleanup();
        if ('error' in msg) reject(new MlError(MlErrorKind.Internal, `gradient worker failed: ${msg.error}`));
        else resolve(msg);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new MlError(MlErrorKind.Internal, `gradient worker crashed: ${err.message}`, { cause: err }));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new MlError(MlErrorKind.Internal, `gradient worker exited with code ${code}`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /**
   * Sends one request per worker (in order; the weights must already be in {@link params}) and
   * resolves with their losses and gradients (views of shared memory, valid until the next run).
   */
  async run(requests: readonly GradRequest[]): Promise<Array<{ loss: number; grads: Float32Array }>> {
    const replies = await Promise.all(
      requests.map((req, i) => {
        const worker = this.workers[i]!;
        const reply = this.next(worker);
        worker.postMessage(req, [req.x.buffer as ArrayBuffer, req.targets.buffer as ArrayBuffer]);
        return reply as Promise<{ loss: number }>;
      }),
    );
    return replies.map((r, i) => ({ loss: r.loss, grads: this.grads[i]! }));
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
