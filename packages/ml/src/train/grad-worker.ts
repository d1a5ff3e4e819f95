/**
 * A data-parallel gradient worker (worker thread): builds the same model as the trainer, and for
 * every message sets the trainable variables to the broadcast values, runs forward + backward on
 * its shard of the batch (batch-norm statistics of the shard, as each GPU replica of PyTorch
 * DataParallel does) and returns the loss and the flattened gradients. Its running statistics
 * are discarded; the trainer keeps those of shard 0 (DataParallel keeps device 0's).
 */
import { parentPort, workerData } from 'node:worker_threads';

import * as tf from '@tensorflow/tfjs';
import { Rng } from '@kzr/imaging/augment';

import { type BackendName, initBackend } from '../backend/select-backend.js';
import { createClassifier } from '../models/create-model.js';
import { type ArchitectureConfig } from '../models/types.js';
import { type ForwardContext } from '../nn/layers.js';
import { hostView, writeFlat } from './host-memory.js';
import { softCrossEntropy } from './losses.js';

/** What the trainer sends for one step (the weights are in the shared `params`). */
export interface GradRequest {
  readonly x: Float32Array;
  readonly targets: Float32Array;
  readonly n: number;
  readonly dropSeed: number;
  readonly reduction: 'mean' | 'sum';
}

/** What a worker answers. */
export type GradReply = { readonly loss: number } | { readonly error: string };

interface WorkerInit {
  readonly backend: BackendName;
  readonly model: ArchitectureConfig;
  readonly crop: number;
  /** Shared memory: the weights (written by the trainer before each request). */
  readonly params: SharedArrayBuffer;
  /** Shared memory: this worker's flattened gradients (read by the trainer after each reply). */
  readonly grads: SharedArrayBuffer;
}

const init = workerData as WorkerInit;
const port = parentPort!;
await initBackend({ backend: init.backend });
const model = createClassifier(init.model);
const vars = model.params.trainable();
const ch = init.model.inputChannels;
const k = init.model.numClasses;
const params = new Float32Array(init.params);
const sharedGrads = new Float32Array(init.grads);

async function step(req: GradRequest): Promise<GradReply> {
  writeFlat(vars, params);
  const ctx: ForwardContext = { training: true, updates: [], rng: new Rng(req.dropSeed) };
  const x = tf.tensor4d(req.x, [req.n, init.crop, init.crop, ch]);
  const t = tf.tensor2d(req.targets, [req.n, k]);
  const { value, grads } = tf.variableGrads(() => softCrossEntropy(model.logits(x, ctx), t, req.reduction), vars);
  const loss = (await value.data())[0]!;
  let at = 0;
  for (const v of vars) {
    const g = grads[v.name]!;
    sharedGrads.set(hostView(g) ?? ((await g.data()) as Float32Array), at);
    at += v.size;
  }
  tf.dispose([x, t, value, ...Object.values(grads)]);
  for (const [, u] of ctx.updates) u.dispose();
  return { loss };
}

port.on('message', (req: GradRequest) => {
  step(req).then(
    (reply) => port.postMessage(reply),
    (err: unknown) => port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
port.postMessage({ ready: true });
