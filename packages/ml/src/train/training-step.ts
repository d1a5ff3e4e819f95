/**
 * One training step: shard 0's forward and backward pass on the trainer thread while the
 * gradient workers compute theirs, the loss check, then the combined SGD update and shard 0's
 * batch-norm running statistics. Every tensor the step makes is freed on every path, including
 * a non-finite loss, an abort or a worker failure.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '@kzr/core';

import { NonFiniteLossError } from '../errors.js';
import { type Classifier } from '../models/types.js';
import { applyBatchNormUpdates, type ForwardContext } from '../nn/layers.js';
import type { GradStep } from './grad-worker.js';
import { combineFlat, readFlat } from './host-memory.js';
import { softCrossEntropy } from './losses.js';
import { type GradWorkerPool } from './parallel.js';
import { type Sgd } from './sgd.js';
import { type LossReduction, type StepPlan } from './step-plan.js';

/** The parts of a run every step uses. */
export interface StepRunner {
  readonly model: Classifier;
  /** The trainable variables, in the order of the flat gradient. */
  readonly vars: readonly tf.Variable[];
  readonly sgd: Sgd;
  /** Input shape of one sample: [crop, crop, channels]. */
  readonly sampleShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly reduction: LossReduction;
  /** The gradient workers of shards 1, 2, …; none when the trainer thread is the only shard. */
  readonly pool?: GradWorkerPool | undefined;
  /** Scratch buffers of the flat gradients (shard 0's, combined), one value per parameter. */
  readonly localBuffer: Float32Array;
  readonly gradBuffer: Float32Array;
}

/** Work the step hands back to its caller at fixed points, to overlap with the computation. */
export interface StepOverlap {
  /** Runs after shard 0's backward pass while the workers may still compute (builds a batch). */
  readonly afterLocalPass?: () => void;
  /**
   * Plans the next step before the update is sent, so each worker starts it right after its own
   * update; returns its worker requests (only called with a pool).
   */
  readonly nextRequests?: () => Promise<readonly GradStep[] | undefined>;
}

/** Where the step is in the run (named by a {@link NonFiniteLossError}). */
export interface StepPosition {
  readonly epoch: number;
  readonly iter: number;
}

/**
 * Runs one planned step whose worker shards were already started, and returns its loss (shard
 * losses combined with the plan's weights). A NaN or infinite loss throws
 * {@link NonFiniteLossError} before any update.
 */
export async function runTrainingStep(
  runner: StepRunner,
  step: StepPlan,
  at: StepPosition,
  overlap: StepOverlap = {},
): Promise<number> {
  const { model, vars, pool, numClasses, sampleShape } = runner;
  const { batch, sizes, weights } = step;
  const n0 = sizes[0]!;
  const sampleSize = sampleShape[0] * sampleShape[1] * sampleShape[2];
  const ctx: ForwardContext = { training: true, updates: [], rng: createRng(step.dropSeed) };
  const made: tf.Tensor[] = [];
  try {
    const x = tf.tensor4d(batch.x.subarray(0, n0 * sampleSize), [n0, ...sampleShape]);
    made.push(x);
    const t = tf.tensor2d(batch.targets.subarray(0, n0 * numClasses), [n0, numClasses]);
    made.push(t);
    const { value, grads } = tf.variableGrads(
      () => softCrossEntropy(model.logits(x, ctx), t, runner.reduction),
      vars as tf.Variable[],
    );
    made.push(value, ...Object.values(grads));
    overlap.afterLocalPass?.();
    // Shard 0's gradient goes into shared memory once every worker has finished the step
    // (each one has read the previous step's before starting this one).
    const replies = pool ? await pool.results() : [];
    const local = await readFlat(
      vars.map((v) => grads[v.name]!),
      pool ? pool.localGrads : runner.localBuffer,
    );
    let loss = (await value.data())[0]! * weights[0]!;
    replies.forEach((r, j) => (loss += r.loss * weights[j + 1]!));
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(at.epoch, at.iter, loss);
    if (pool) pool.update(weights, await overlap.nextRequests?.());
    const parts = [{ g: local, w: weights[0]! }, ...replies.map((r, j) => ({ g: r.grads, w: weights[j + 1]! }))];
    runner.sgd.stepFlat(combineFlat(parts, runner.gradBuffer), step.lr);
    applyBatchNormUpdates(ctx);
    return loss;
  } finally {
    // Running-statistic updates of a step that failed were never applied.
    for (const [, update] of ctx.updates) update.dispose();
    tf.dispose(made);
  }
}
