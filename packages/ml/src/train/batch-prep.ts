/**
 * Training batches built in a worker thread ahead of compute (issue: "prepares batches in worker
 * threads ahead of compute"). The trainer asks for batch i + 1 when it starts batch i, so the
 * augmentation runs while the model computes, on whichever core is idle, instead of on the
 * trainer thread between steps. Batches are identical to the trainer-thread ones (each is a pure
 * function of its position), so results and resumes do not depend on where they were built.
 */
import { Worker } from 'node:worker_threads';

import { ErrorKind } from '@kzr/core';

import { type ModelConfig } from '../config/model-config.js';
import { MlError } from '../errors.js';
import type { BatchWorkerInit, BatchWorkerMessage, BatchWorkerReply } from './batch-worker.js';
import { type LabelledCrop } from './dataset.js';

/** A built batch: inputs [n, C, C, ch] and soft targets [n, K]. */
export interface WorkerBatch {
  readonly x: Float32Array;
  readonly targets: Float32Array;
  readonly n: number;
}

/** Crop bytes above which the crops are not copied into a worker (batches stay on the trainer). */
const maxWorkerCropBytes = 256 * 1024 * 1024;

/** Starts a worker thread running `file` (a sibling module) with `workerData`. */
export function startSiblingWorker(file: string, workerData: unknown): Worker {
  const isTs = import.meta.url.endsWith('.ts');
  const url = new URL(isTs ? `./${file}.ts` : `./${file}.js`, import.meta.url);
  if (!isTs) return new Worker(url, { workerData });
  // Under tsx (sources, tests) the worker registers tsx itself: loader hooks of the main thread
  // are not inherited by worker threads on Node 20.
  const source = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); }).catch((err) => { throw err; });`;
  return new Worker(source, { eval: true, workerData });
}

/** The batch worker of one training run. */
export class BatchPrep {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (b: WorkerBatch) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (msg: BatchWorkerReply | { ready: true }) => {
      if ('ready' in msg) return;
      if ('error' in msg) {
        this.fail(new MlError(ErrorKind.Internal, `batch worker failed: ${msg.error}`));
        return;
      }
      const waiter = this.pending.get(msg.iter);
      this.pending.delete(msg.iter);
      waiter?.resolve({ x: msg.x, targets: msg.targets, n: msg.n });
    });
    worker.on('error', (err) =>
      this.fail(new MlError(ErrorKind.Internal, `batch worker crashed: ${err.message}`, { cause: err })),
    );
  }

  /**
   * Starts the worker with a copy of the crops, or returns undefined when they exceed
   * {@link maxWorkerCropBytes} (the trainer then builds its batches itself).
   */
  static async start(
    config: ModelConfig,
    crops: readonly LabelledCrop[],
    labels: readonly number[],
    numClasses: number,
    refine: boolean,
  ): Promise<BatchPrep | undefined> {
    const bytes = crops.reduce((s, c) => s + c.image.data.byteLength, 0);
    if (bytes > maxWorkerCropBytes) return undefined;
    const init: BatchWorkerInit = { config, crops, labels, numClasses, refine };
    const worker = startSiblingWorker('batch-worker', init);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new MlError(ErrorKind.Internal, `batch worker crashed: ${err.message}`, { cause: err }));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    return new BatchPrep(worker);
  }

  /** Sets the epoch whose batches follow. */
  startEpoch(epochSeed: number, order: Int32Array): void {
    const msg: BatchWorkerMessage = { type: 'epoch', epochSeed, order };
    this.worker.postMessage(msg);
  }

  /** Asks for batch `iter` of the current epoch. */
  request(iter: number): Promise<WorkerBatch> {
    const promise = this.failure
      ? Promise.reject(this.failure)
      : new Promise<WorkerBatch>((resolve, reject) => {
          this.pending.set(iter, { resolve, reject });
          const msg: BatchWorkerMessage = { type: 'batch', iter };
          this.worker.postMessage(msg);
        });
    // A request still pending when training stops on another error is never awaited.
    promise.catch(() => undefined);
    return promise;
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
