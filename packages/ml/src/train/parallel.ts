/**
 * Data-parallel training over worker threads, for backends that use one core per process
 * (wasm under Node has no threads). Shard 0 of every batch runs on the trainer's own model;
 * shards 1… run in {@link ./grad-worker.ts} threads, each with its own copy of the model and of
 * the SGD state. After a step every thread has every shard's gradient (shared memory), combines
 * them with the same code in the same order and applies the same update, so all copies stay
 * bit-identical without sending weights; a worker starts its next step as soon as it has
 * updated, while the trainer updates too. Weights and momentum buffers are sent (through shared
 * memory) only at the first step of a run. Gradients are averaged weighted by shard size
 * (summed for the refinement loss), so the update equals a full-batch step except for batch
 * norm, which normalises each shard with its own statistics (PyTorch DataParallel semantics);
 * running statistics come from shard 0.
 */
import type { Worker } from 'node:worker_threads';

import { ErrorKind } from '@kzr/core';

import { type BackendName } from '../backend/select-backend.js';
import { MlError } from '../errors.js';
import { type ArchitectureConfig } from '../models/types.js';
import { startSiblingWorker } from './batch-prep.js';
import type { GradMessage, GradReply, GradStep, GradWorkerInit } from './grad-worker.js';
import { type SgdOptions } from './sgd.js';

/** A pool of gradient workers. */
export class GradWorkerPool {
  /** Shared memory: the weights, read by the workers at a synchronising step. */
  readonly params: Float32Array;
  /** Shared memory: the momentum buffers, read by the workers at a synchronising step. */
  readonly slots: Float32Array;
  /** Shared memory: the trainer's own (shard 0) flattened gradient of the current step. */
  readonly localGrads: Float32Array;
  private readonly workers: Worker[];
  /**
   * Per worker, two shared buffers for its flattened gradients, used by alternate steps (a
   * worker writes step i + 1's while the trainer may still read step i's).
   */
  private readonly grads: Array<[Float32Array, Float32Array]>;
  private runningBuffer: 0 | 1 = 0;
  private pending: Promise<Array<{ loss: number }>> | undefined;
  private failure: Error | undefined;

  private constructor(workers: Worker[], shared: Float32Array[], grads: Array<[Float32Array, Float32Array]>) {
    this.workers = workers;
    [this.params, this.slots, this.localGrads] = shared as [Float32Array, Float32Array, Float32Array];
    this.grads = grads;
    for (const w of workers) {
      // An update (which has no reply of its own) reports its failure here.
      w.on('message', (msg: GradReply | { ready: true }) => {
        if ('error' in msg) this.failure ??= new MlError(ErrorKind.Internal, `gradient worker failed: ${msg.error}`);
      });
    }
  }

  /**
   * Starts `count` workers building `model` (with `paramCount` trainable scalars) on `backend`,
   * with the trainer's SGD options.
   */
  static async start(
    count: number,
    backend: BackendName,
    model: ArchitectureConfig,
    crop: number,
    paramCount: number,
    sgd: SgdOptions,
  ): Promise<GradWorkerPool> {
    const shared = (): Float32Array => new Float32Array(new SharedArrayBuffer(4 * paramCount));
    const common = [shared(), shared(), shared()];
    const grads = Array.from({ length: count }, (): [Float32Array, Float32Array] => [shared(), shared()]);
    const workers = grads.map((_, index) => {
      const init: GradWorkerInit = {
        backend,
        model,
        crop,
        sgd,
        index,
        params: common[0]!.buffer as SharedArrayBuffer,
        slots: common[1]!.buffer as SharedArrayBuffer,
        localGrads: common[2]!.buffer as SharedArrayBuffer,
        grads: grads.map(
          (pair) => pair.map((g) => g.buffer as SharedArrayBuffer) as [SharedArrayBuffer, SharedArrayBuffer],
        ),
      };
      return startSiblingWorker('grad-worker', init);
    });
    const pool = new GradWorkerPool(workers, common, grads);
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
        if ('error' in msg) reject(new MlError(ErrorKind.Internal, `gradient worker failed: ${msg.error}`));
        else resolve(msg);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new MlError(ErrorKind.Internal, `gradient worker crashed: ${err.message}`, { cause: err }));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new MlError(ErrorKind.Internal, `gradient worker exited with code ${code}`));
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

  private post(messages: readonly GradMessage[], steps: ReadonlyArray<GradStep | undefined>): void {
    if (this.failure) throw this.failure;
    const replies = steps.some((s) => s !== undefined)
      ? this.workers.map((w) => this.next(w) as Promise<{ loss: number }>)
      : undefined;
    messages.forEach((msg, i) => {
      const step = steps[i];
      this.workers[i]!.postMessage(msg, step ? [step.x.buffer as ArrayBuffer, step.targets.buffer as ArrayBuffer] : []);
    });
    if (replies) {
      this.runningBuffer = steps.find((s) => s !== undefined)!.buffer;
      this.pending = Promise.all(replies);
      // Awaited by results(); a run stopped on another error never awaits it.
      this.pending.catch(() => undefined);
    }
  }

  /**
   * Starts one step per worker (in order). With `sync`, each worker first reads the weights and
   * momentum buffers from {@link params} and {@link slots} (which the trainer has filled).
   */
  start(steps: readonly GradStep[], sync: boolean): void {
    this.post(
      steps.map((step) => ({ type: 'step', step, sync })),
      steps,
    );
  }

  /** The losses of the running step, with each worker's gradient (shared memory views). */
  async results(): Promise<Array<{ loss: number; grads: Float32Array }>> {
    const pending = this.pending;
    if (!pending) throw new MlError(ErrorKind.Internal, 'no gradient step is running');
    this.pending = undefined;
    const replies = await pending;
    return replies.map((r, i) => ({ loss: r.loss, grads: this.grads[i]![this.runningBuffer] }));
  }

  /**
   * Tells every worker to apply the update of the finished step (shard weights `weights`; the
   * trainer's gradient is in {@link localGrads}), then to start `next` when given.
   */
  update(weights: readonly number[], next?: readonly GradStep[]): void {
    this.post(
      this.workers.map((_, i) => ({ type: 'update', weights, next: next?.[i] })),
      this.workers.map((_, i) => next?.[i]),
    );
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
