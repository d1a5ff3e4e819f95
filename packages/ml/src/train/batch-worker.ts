/**
 * The batch worker thread (`batch-prep.ts`): builds augmented training batches ahead of
 * compute. It receives the crops once, each epoch's (seed, order) at the epoch start, then one
 * request per iteration, and answers `prepareTrainBatch` of that position, exactly what the
 * trainer thread would build (a batch is a pure function of its position).
 */
import { parentPort, workerData } from 'node:worker_threads';

import { type ModelConfig } from '../config/model-config.js';
import { prepareTrainBatch } from './batches.js';
import { type LabelledCrop } from './dataset.js';

/** What the trainer sends. */
export type BatchWorkerMessage =
  | { readonly type: 'epoch'; readonly epochSeed: number; readonly order: Int32Array }
  | { readonly type: 'batch'; readonly iter: number };

/** What the worker answers to a `batch` message. */
export type BatchWorkerReply =
  | { readonly iter: number; readonly x: Float32Array; readonly targets: Float32Array; readonly n: number }
  | { readonly error: string };

/** The worker's start data. */
export interface BatchWorkerInit {
  readonly config: ModelConfig;
  readonly crops: readonly LabelledCrop[];
  readonly labels: readonly number[];
  readonly numClasses: number;
  readonly refine: boolean;
}

const init = workerData as BatchWorkerInit;
const port = parentPort!;
const batchSize = init.config.train.batchSize;
let epoch: { epochSeed: number; order: Int32Array } | undefined;

port.on('message', (msg: BatchWorkerMessage) => {
  if (msg.type === 'epoch') {
    epoch = { epochSeed: msg.epochSeed, order: msg.order };
    return;
  }
  try {
    if (!epoch) throw new Error('batch requested before the epoch');
    const { iter } = msg;
    const b = prepareTrainBatch(
      init.config,
      init.crops,
      init.labels,
      init.numClasses,
      epoch.order.subarray(iter * batchSize, (iter + 1) * batchSize),
      epoch.epochSeed,
      iter,
      init.refine,
    );
    const reply: BatchWorkerReply = { iter, x: b.x, targets: b.targets, n: b.n };
    port.postMessage(reply, [b.x.buffer as ArrayBuffer, b.targets.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
port.postMessage({ ready: true });
