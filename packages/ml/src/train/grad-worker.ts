/**
 * A data-parallel gradient worker (worker thread, see `parallel.ts`): builds the same model and
 * SGD state as the trainer. A `step` message runs forward + backward on its shard of the batch
 * (batch-norm statistics of the shard, as each GPU replica of PyTorch DataParallel does) and
 * answers the loss, the flattened gradient going into shared memory. An `update` message
 * combines every shard's gradient exactly as the trainer does and applies the same SGD update
 * to its own copy, then starts the next step if one came with it. Its running statistics are
 * discarded; the trainer keeps those of shard 0 (DataParallel keeps device 0's).
 */
import { parentPort, workerData } from 'node:worker_threads';

import * as tf from '@tensorflow/tfjs';
import { createRng } from '@kzr/core';

import { type BackendName, initBackend } from '../backend/select-backend.js';
import { createClassifier } from '../models/create-model.js';
import { type ArchitectureConfig } from '../models/types.js';
import { type ForwardContext } from '../nn/layers.js';
import { combineFlat, hostView, writeFlat } from './host-memory.js';
import { softCrossEntropy } from './losses.js';
import { Sgd, type SgdOptions } from './sgd.js';

/** One step of one shard. */
export interface GradStep {
  readonly x: Float32Array;
  readonly targets: Float32Array;
  readonly n: number;
  readonly dropSeed: number;
  readonly reduction: 'mean' | 'sum';
  /** Learning rate of this step's update. */
  readonly lr: number;
  /** Which of the two gradient buffers this step writes (alternating per step). */
  readonly buffer: 0 | 1;
}

/** What the trainer sends. */
export type GradMessage =
  | { readonly type: 'step'; readonly step: GradStep; readonly sync: boolean }
  | { readonly type: 'update'; readonly weights: readonly number[]; readonly next?: GradStep | undefined };

/** What a worker answers to a step. */
export type GradReply = { readonly loss: number } | { readonly error: string };

/** A worker's start data. */
export interface GradWorkerInit {
  readonly backend: BackendName;
  readonly model: ArchitectureConfig;
  readonly crop: number;
  readonly sgd: SgdOptions;
  /** This worker's position among the workers (its shard is index + 1). */
  readonly index: number;
  /** Shared memory: weights and momentum buffers (read at a synchronising step). */
  readonly params: SharedArrayBuffer;
  readonly slots: SharedArrayBuffer;
  /** Shared memory: the trainer's gradient, then every worker's (this one writes its own). */
  readonly localGrads: SharedArrayBuffer;
  /** Per worker, its two gradient buffers. */
  readonly grads: ReadonlyArray<readonly [SharedArrayBuffer, SharedArrayBuffer]>;
}

const init = workerData as GradWorkerInit;
const port = parentPort!;
await initBackend({ backend: init.backend });
const model = createClassifier(init.model);
const vars = model.params.trainable();
const sgd = new Sgd(vars, init.sgd);
const ch = init.model.inputChannels;
const k = init.model.numClasses;
const params = new Float32Array(init.params);
const slots = new Float32Array(init.slots);
const localGrads = new Float32Array(init.localGrads);
const allGrads = init.grads.map((pair) => pair.map((b) => new Float32Array(b)));
const ownGrads = allGrads[init.index]!;
const combined = new Float32Array(params.length);
// The last step's learning rate and gradient buffer, used by its update.
let lr = 0;
let buffer: 0 | 1 = 0;

async function step(req: GradStep): Promise<GradReply> {
  lr = req.lr;
  buffer = req.buffer;
  const out = ownGrads[buffer]!;
  const ctx: ForwardContext = { training: true, updates: [], rng: createRng(req.dropSeed) };
  const made: tf.Tensor[] = [];
  try {
    const x = tf.tensor4d(req.x, [req.n, init.crop, init.crop, ch]);
    made.push(x);
    const t = tf.tensor2d(req.targets, [req.n, k]);
    made.push(t);
    const { value, grads } = tf.variableGrads(() => softCrossEntropy(model.logits(x, ctx), t, req.reduction), vars);
    made.push(value, ...Object.values(grads));
    const loss = (await value.data())[0]!;
    let at = 0;
    for (const v of vars) {
      const g = grads[v.name]!;
      out.set(hostView(g) ?? ((await g.data()) as Float32Array), at);
      at += v.size;
    }
    return { loss };
  } finally {
    // The worker's running statistics are discarded (the trainer keeps shard 0's), on every path.
    for (const [, u] of ctx.updates) u.dispose();
    tf.dispose(made);
  }
}

function run(req: GradStep): void {
  step(req).then(
    (reply) => port.postMessage(reply),
    (err: unknown) => port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}

port.on('message', (msg: GradMessage) => {
  try {
    if (msg.type === 'step') {
      if (msg.sync) {
        writeFlat(vars, params);
        writeFlat(sgd.slots, slots);
      }
      run(msg.step);
      return;
    }
    const parts = [
      { g: localGrads, w: msg.weights[0]! },
      ...allGrads.map((pair, j) => ({ g: pair[buffer]!, w: msg.weights[j + 1]! })),
    ];
    sgd.stepFlat(combineFlat(parts, combined), lr);
    if (msg.next) run(msg.next);
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
port.postMessage({ ready: true });
