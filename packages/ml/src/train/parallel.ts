/**
 * Data-parallel training over worker threads, for backends that use one core per process
 * (wasm under Node has no threads). Shard 0 of every batch runs on the trainer's own model;
 * shards 1… run in {@link ./grad-worker.ts} threads that receive the current weights each step.
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
  private readonly workers: Worker[];

  private constructor(workers: Worker[]) {
    this.workers = workers;
  }

  /** Starts `count` workers building `model` on `backend`. */
  static async start(
    count: number,
    backend: BackendName,
    model: ArchitectureConfig,
    crop: number,
  ): Promise<GradWorkerPool> {
    const workers = Array.from({ length: count }, () => startSiblingWorker('grad-worker', { backend, model, crop }));
    const pool = new GradWorkerPool(workers);
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

  /** Sends one request per worker (in order) and resolves with their replies in the same order. */
  run(requests: readonly GradRequest[]): Promise<Array<{ loss: number; grads: Float32Array }>> {
    return Promise.all(
      requests.map((req, i) => {
        const worker = this.workers[i]!;
        const reply = this.next(worker);
        worker.postMessage(req, [req.x.buffer as ArrayBuffer, req.targets.buffer as ArrayBuffer]);
        return reply as Promise<{ loss: number; grads: Float32Array }>;
      }),
    );
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
