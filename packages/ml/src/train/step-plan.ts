/**
 * Step planning: everything a training step needs besides the model. The learning rate of the
 * step, how the batch is cut into data-parallel shards (shard 0 on the trainer thread, the rest
 * on gradient workers), each shard's weight in the combined gradient, and the workers' requests
 * with their drop-connect seeds. A plan is a pure function of its inputs, so a resumed run plans
 * the same steps.
 */
import { deriveSeed } from '@kzr/core';

import { type ModelConfig } from '../config/model-config.js';
import { type WorkerBatch } from './batch-prep.js';
import { Stream } from './batches.js';
import type { GradStep } from './grad-worker.js';
import { learningRate } from './schedule.js';

/** How a step's shard losses are reduced: refinement sums, everything else averages. */
export type LossReduction = 'mean' | 'sum';

/** One training step's inputs. */
export interface StepPlan {
  readonly batch: WorkerBatch;
  readonly lr: number;
  /** Samples per shard; shard 0 is the trainer thread's. */
  readonly sizes: readonly number[];
  /** Per shard, its weight in the combined gradient. */
  readonly weights: readonly number[];
  /** Per worker shard (1, 2, …), its step. */
  readonly requests: readonly GradStep[];
  /** Seed of shard 0's drop-connect masks. */
  readonly dropSeed: number;
}

/** What {@link planStep} needs to know about the run and the step. */
export interface StepPlanInputs {
  readonly batch: WorkerBatch;
  readonly lr: number;
  readonly shards: number;
  /** Values per training sample (crop × crop × channels). */
  readonly sampleSize: number;
  readonly numClasses: number;
  readonly reduction: LossReduction;
  readonly epochSeed: number;
  readonly iter: number;
  /** Which of the workers' two gradient buffers the step writes (alternating step by step). */
  readonly buffer: 0 | 1;
}

/**
 * The learning rate of step `iter` of `epoch`: the refinement's fixed rate, else the warmup +
 * MultiStep / cosine schedule of the config.
 */
export function stepLearningRate(
  config: ModelConfig,
  refine: { readonly lr: number } | undefined,
  itersPerEpoch: number,
  epoch: number,
  iter: number,
): number {
  if (refine) return refine.lr;
  const t = config.train;
  return learningRate(
    { baseLr: t.baseLr, warmupEpochs: t.warmupEpochs, itersPerEpoch, schedule: t.schedule },
    epoch,
    iter,
  );
}

/** The seed of a shard's drop-connect masks in step `iter` (each shard its own stream). */
export function dropConnectSeed(epochSeed: number, iter: number, shard: number): number {
  return deriveSeed(epochSeed, Stream.DropConnect, iter, shard);
}

/** Cuts a batch into shards and builds the worker requests. */
export function planStep(p: StepPlanInputs): StepPlan {
  const { batch, sampleSize, numClasses } = p;
  const sizes = shardSizes(batch.n, p.shards);
  const requests: GradStep[] = [];
  let start = sizes[0]!;
  for (let j = 1; j < p.shards; j++) {
    const n = sizes[j]!;
    requests.push({
      x: batch.x.slice(start * sampleSize, (start + n) * sampleSize),
      targets: batch.targets.slice(start * numClasses, (start + n) * numClasses),
      n,
      dropSeed: dropConnectSeed(p.epochSeed, p.iter, j),
      reduction: p.reduction,
      lr: p.lr,
      buffer: p.buffer,
    });
    start += n;
  }
  const weights = sizes.map((n) => (p.reduction === 'mean' ? n / batch.n : 1));
  return { batch, lr: p.lr, sizes, weights, requests, dropSeed: dropConnectSeed(p.epochSeed, p.iter, 0) };
}

/**
 * Splits n samples into `shards` consecutive parts. Shard 0 runs on the trainer thread, which
 * also coordinates the step and the batch worker, so it gets one sample fewer than an even
 * split (32 on 2 shards: 15 + 17); the rest is split near-equally (the first ones larger).
 */
export function shardSizes(n: number, shards: number): number[] {
  if (shards <= 1) return [n];
  const first = Math.max(1, Math.floor(n / shards) - 1);
  const rest = n - first;
  const k = shards - 1;
  return [first, ...Array.from({ length: k }, (_, j) => Math.floor(rest / k) + (j < rest % k ? 1 : 0))];
}
