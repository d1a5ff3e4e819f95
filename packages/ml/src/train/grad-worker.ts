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

/** What the trainer sends for one step. */
export interface GradRequest {
  readonly params: Float32Array;
  readonly x: Float32Array;
  readonly targets: Float32Array;
  readonly n: number;
  readonly dropSeed: number;
  readonly reduction: 'mean' | 'sum';
}

/** What a worker answers. */
export type GradReply = { readonly loss: number; readonly grads: Float32Array } | { readonly error: string };

interface WorkerInit {
  readonly backend: BackendName;
  readonly model: ArchitectureConfig;
  readonly crop: number;
}

const init = workerData as WorkerInit;
const port = parentPort!;
await initBackend({ backend: init.backend });
const model = createClassifier(init.model);
const vars = model.params.trainable();
const ch = init.model.inputChannels;
const k = init.model.numClasses;

async function step(req: GradRequest): Promise<GradReply> {
  writeFlat(vars, req.params);
  const ctx: ForwardContext = { training: true, updates: [], rng: new Rng(req.dropSeed) };
  const x = tf.tensor4d(req.x, [req.n, init.crop, init.crop, ch]);
  const t = tf.tensor2d(req.targets, [req.n, k]);
  const { value, grads } = tf.variableGrads(() => softCrossEntropy(model.logits(x, ctx), t, req.reduction), vars);
  const loss = (await value.data())[0]!;
  const flat = new Float32Array(req.params.length);
  let at = 0;
  for (const v of vars) {
    const g = grads[v.name]!;
    flat.set(hostView(g) ?? ((await g.data()) as Float32Array), at);
    at += v.size;
  }
  tf.dispose([x, t, value, ...Object.values(grads)]);
  for (const [, u] of ctx.updates) u.dispose();
  return { loss, grads: flat };
}

port.on('message', (req: GradRequest) => {
  step(req).then(
    (reply) => port.postMessage(reply, 'grads' in reply ? [reply.grads.buffer as ArrayBuffer] : []),
    (err: unknown) => port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
port.postMessage({ ready: true });
