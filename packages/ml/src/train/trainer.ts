/**
 * The training loop (spec §4): per-epoch undersampling and shuffling, augmented batches, SGD
 * with momentum and weight decay under the warmup + MultiStep / cosine schedule, validation
 * top-1 on the centre crops of the held-out crops after every epoch, a checkpoint per epoch
 * (weights, optimizer slots, schedule position, generator state, epoch), the best by val top-1
 * copied to `best/`, and `--resume` from `latest.json`. On wasm / cpu with one process the run
 * is deterministic, so a resumed run repeats the interrupted epoch bit for bit. A NaN or
 * infinite loss stops the run before the bad update, keeping the last good checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@kzr/imaging/augment';

import { type BackendName } from '../backend/select-backend.js';
import { type ModelConfig } from '../config/model-config.js';
import { MlValidationError, NonFiniteLossError } from '../errors.js';
import { createClassifier } from '../models/create-model.js';
import { type Classifier } from '../models/types.js';
import { applyBatchNormUpdates, type ForwardContext } from '../nn/layers.js';
import { deriveSeed, prepareTrainBatch, prepareValidation, Stream } from './batches.js';
import {
  type CheckpointState,
  epochKey,
  copyCheckpoint,
  type EpochMetrics,
  loadCheckpointInto,
  readCheckpointState,
  writeCheckpoint,
} from './checkpoint.js';
import { classList, epochOrder, type LabelledCrop } from './dataset.js';
import type { GradStep } from './grad-worker.js';
import { BatchPrep, type WorkerBatch } from './batch-prep.js';
import { combineFlat, readFlat } from './host-memory.js';
import { softCrossEntropy } from './losses.js';
import { GradWorkerPool } from './parallel.js';
import { writeReports } from './reports.js';
import { learningRate } from './schedule.js';
import { Sgd } from './sgd.js';
import { type CheckpointStorage } from './storage.js';

/** One iteration's report. */
export interface IterationInfo {
  readonly epoch: number;
  readonly iter: number;
  readonly itersPerEpoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly lr: number;
  readonly imagesPerSecond: number;
  readonly batchSize: number;
}

/** One training step's inputs (see the loop in {@link train}). */
interface StepPlan {
  readonly batch: WorkerBatch;
  readonly lr: number;
  readonly sizes: number[];
  /** Per shard, its weight in the combined gradient. */
  readonly weights: number[];
  /** Per worker shard, its step. */
  readonly requests: GradStep[];
}

/** Options of {@link train}. */
export interface TrainOptions {
  readonly config: ModelConfig;
  readonly train: readonly LabelledCrop[];
  readonly val: readonly LabelledCrop[];
  readonly storage: CheckpointStorage;
  /** Continue from `latest.json`. @default false */
  readonly resume?: boolean;
  /** Refinement mode (spec §3.5, §4.4): no augmentation, one-hot ×0.9 targets summed, fixed lr. */
  readonly refine?: { readonly lr: number };
  /** Override the config's epoch count. */
  readonly epochs?: number;
  readonly onIteration?: (info: IterationInfo) => void;
  readonly onEpoch?: (metrics: EpochMetrics) => void;
  readonly signal?: AbortSignal;
  /**
   * Data-parallel shards per batch: 1 trains in this thread; n > 1 adds n − 1 worker threads
   * (each its own single-threaded backend). Resume is bit-identical with the same count.
   * @default 1
   */
  readonly workers?: number;
  /**
   * Build the augmented batches in a worker thread, one batch ahead of compute (the crops are
   * copied into it once; above 256 MiB of crops the trainer thread builds them). Results are the
   * same either way. @default true
   */
  readonly batchWorker?: boolean;
  /** Backend the worker threads load (the trainer's own). @default 'wasm' */
  readonly backend?: BackendName;
}

/** What {@link train} returns. */
export interface TrainResult {
  readonly history: readonly EpochMetrics[];
  readonly best: { readonly epoch: number; readonly valTop1: number };
  readonly classes: readonly string[];
}

/** Top-1 accuracy and predictions of a model on prepared inputs. */
export async function evaluateTop1(
  model: Classifier,
  inputs: Float32Array,
  labels: readonly number[],
  size: number,
  shape: [number, number, number],
  batchSize: number,
): Promise<{ top1: number; predictions: Int32Array }> {
  const n = labels.length;
  const predictions = new Int32Array(n);
  const ctx: ForwardContext = { training: false, updates: [] };
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const pred = tf.tidy(() => {
      const x = tf.tensor4d(inputs.subarray(start * size, (start + count) * size), [count, ...shape]);
      return tf.argMax(model.logits(x, ctx), 1);
    });
    predictions.set((await pred.data()) as Int32Array, start);
    pred.dispose();
  }
  let correct = 0;
  labels.forEach((y, i) => {
    if (predictions[i] === y) correct++;
  });
  return { top1: n === 0 ? 0 : correct / n, predictions };
}

/** Trains a model; see the module comment. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { storage } = options;
  let config = options.config;
  const classes = classList(options.train);
  if (classes.length < 2) throw new MlValidationError('train', `needs at least 2 classes, found ${classes.length}`);
  config = { ...config, model: { ...config.model, numClasses: classes.length } };
  const epochs = options.epochs ?? config.train.epochs;
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const labels = options.train.map((c) => classIndex.get(c.label)!);
  const valLabels = options.val.map((c) => classIndex.get(c.label) ?? -1);
  const batchSize = config.train.batchSize;
  const refine = options.refine;
  const undersampling = refine ? 0 : config.train.undersampling;

  const model = createClassifier(config.model);
  const vars = model.params.trainable();
  const sgd = new Sgd(vars, { momentum: config.train.momentum, weightDecay: config.train.weightDecay });
  const shards = Math.max(1, Math.min(options.workers ?? 1, batchSize));
  const paramCount = vars.reduce((s, v) => s + v.size, 0);
  const gradBuffer = new Float32Array(paramCount);
  const localBuffer = new Float32Array(paramCount);
  // The workers copy the weights and momentum buffers at the first step of this run only.
  let syncWorkers = true;
  // Steps planned so far (alternates the workers' gradient buffers).
  let planned = 0;
  let pool: GradWorkerPool | undefined;
  let prep: BatchPrep | undefined;
  try {
    const [startedPool, startedPrep] = await Promise.allSettled([
      shards > 1
        ? GradWorkerPool.start(
            shards - 1,
            options.backend ?? 'wasm',
            config.model,
            config.input.trainCrop,
            paramCount,
            {
              momentum: config.train.momentum,
              weightDecay: config.train.weightDecay,
            },
          )
        : undefined,
      options.batchWorker === false
        ? undefined
        : BatchPrep.start(config, options.train, labels, classes.length, refine !== undefined),
    ]);
    if (startedPool.status === 'fulfilled') pool = startedPool.value;
    if (startedPrep.status === 'fulfilled') prep = startedPrep.value;
    if (startedPool.status === 'rejected') throw startedPool.reason;
    if (startedPrep.status === 'rejected') throw startedPrep.reason;
    let orderRng = new Rng(config.train.seed);
    let startEpoch = 0;
    let iteration = 0;
    let best = { epoch: -1, valTop1: -1 };
    let history: EpochMetrics[] = [];
    if (options.resume) {
      const latest = await storage.get('latest.json');
      if (latest) {
        const { prefix } = JSON.parse(new TextDecoder().decode(latest)) as { prefix: string };
        const state = await readCheckpointState(storage, prefix);
        if (state.classes.join('\n') !== classes.join('\n')) {
          throw new MlValidationError('resume', 'the checkpoint was trained on a different class list');
        }
        await loadCheckpointInto(storage, prefix, model.params, state, sgd.slots);
        orderRng = new Rng(state.rng.order);
        startEpoch = state.epoch;
        iteration = state.iteration;
        best = { ...state.best };
        history = [...state.history];
      }
    }

    const c = config.input.trainCrop;
    const ch = config.model.inputChannels;
    // Values per training sample.
    const sample = c * c * ch;
    const valInputs = prepareValidation(config, options.val);

    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const epochSeed = orderRng.nextUint32();
      const order = epochOrder(labels, undersampling, orderRng);
      const itersPerEpoch = Math.floor(order.length / batchSize);
      if (itersPerEpoch === 0) {
        throw new MlValidationError(
          'config.train.batchSize',
          `${batchSize} exceeds the ${order.length} training crops`,
        );
      }
      const epochStart = performance.now();
      let lossSum = 0;
      let lr = 0;
      const prepare = (iter: number): ReturnType<typeof prepareTrainBatch> =>
        prepareTrainBatch(
          config,
          options.train,
          labels,
          classes.length,
          order.subarray(iter * batchSize, (iter + 1) * batchSize),
          epochSeed,
          iter,
          refine !== undefined,
        );
      prep?.startEpoch(epochSeed, order);
      const reduction = refine ? 'sum' : 'mean';
      /** Everything a step needs besides the model: its batch, lr, shards and worker requests. */
      const plan = (batch: WorkerBatch, iter: number): StepPlan => {
        const stepLr = refine
          ? refine.lr
          : learningRate(
              {
                baseLr: config.train.baseLr,
                warmupEpochs: config.train.warmupEpochs,
                itersPerEpoch,
                schedule: config.train.schedule,
              },
              epoch,
              iter,
            );
        const sizes = shardSizes(batch.n, shards);
        const requests: GradStep[] = [];
        let start = sizes[0]!;
        for (let j = 1; j < shards; j++) {
          const n = sizes[j]!;
          requests.push({
            x: batch.x.slice(start * sample, (start + n) * sample),
            targets: batch.targets.slice(start * classes.length, (start + n) * classes.length),
            n,
            dropSeed: deriveSeed(epochSeed, iter, Stream.DropConnect + 16 * j),
            reduction,
            lr: stepLr,
            buffer: planned % 2 === 0 ? 0 : 1,
          });
          start += n;
        }
        const weights = sizes.map((n) => (reduction === 'mean' ? n / batch.n : 1));
        planned++;
        return { batch, lr: stepLr, sizes, weights, requests };
      };
      let nextBatch: WorkerBatch | Promise<WorkerBatch> | undefined;
      const takeBatch = async (iter: number): Promise<WorkerBatch> => {
        const batch = await (nextBatch ?? (prep ? prep.request(iter) : prepare(iter)));
        // The batch worker builds the next batch while this one computes.
        nextBatch = prep && iter + 1 < itersPerEpoch ? prep.request(iter + 1) : undefined;
        return batch;
      };
      // A step whose worker shards were already started (by the previous step's update).
      let startedStep: StepPlan | undefined;
      for (let iter = 0; iter < itersPerEpoch; iter++) {
        options.signal?.throwIfAborted();
        let step = startedStep;
        startedStep = undefined;
        if (!step) {
          step = plan(await takeBatch(iter), iter);
          if (pool) {
            if (syncWorkers) {
              await readFlat(vars, pool.params);
              await readFlat(sgd.slots, pool.slots);
            }
            pool.start(step.requests, syncWorkers);
            syncWorkers = false;
          }
        }
        const { batch, sizes, weights } = step;
        lr = step.lr;
        const n0 = sizes[0]!;
        const ctx: ForwardContext = {
          training: true,
          updates: [],
          rng: new Rng(deriveSeed(epochSeed, iter, Stream.DropConnect)),
        };
        const x = tf.tensor4d(batch.x.subarray(0, n0 * sample), [n0, c, c, ch]);
        const t = tf.tensor2d(batch.targets.subarray(0, n0 * classes.length), [n0, classes.length]);
        const { value, grads } = tf.variableGrads(() => softCrossEntropy(model.logits(x, ctx), t, reduction), vars);
        // Without a batch worker, build the next batch while the worker threads compute.
        if (!prep) nextBatch = iter + 1 < itersPerEpoch ? prepare(iter + 1) : undefined;
        // Shard 0's gradient goes into shared memory once every worker has finished the step
        // (each one has read the previous step's before starting this one).
        const replies = pool ? await pool.results() : [];
        const local = await readFlat(
          vars.map((v) => grads[v.name]!),
          pool ? pool.localGrads : localBuffer,
        );
        let loss = (await value.data())[0]! * weights[0]!;
        replies.forEach((r, j) => (loss += r.loss * weights[j + 1]!));
        if (!Number.isFinite(loss)) {
          tf.dispose([x, t, value, ...Object.values(grads)]);
          for (const [, u] of ctx.updates) u.dispose();
          throw new NonFiniteLossError(epoch, iter, loss);
        }
        if (pool) {
          // Plan the next step now, so each worker starts it right after its own update.
          if (iter + 1 < itersPerEpoch) startedStep = plan(await takeBatch(iter + 1), iter + 1);
          pool.update(weights, startedStep?.requests);
        }
        const parts = [{ g: local, w: weights[0]! }, ...replies.map((r, j) => ({ g: r.grads, w: weights[j + 1]! }))];
        sgd.stepFlat(combineFlat(parts, gradBuffer), lr);
        applyBatchNormUpdates(ctx);
        tf.dispose([x, t, value, ...Object.values(grads)]);
        iteration++;
        lossSum += loss;
        const elapsed = (performance.now() - epochStart) / 1000;
        options.onIteration?.({
          epoch,
          iter,
          itersPerEpoch,
          epochs,
          loss,
          lr,
          imagesPerSecond: ((iter + 1) * batchSize) / elapsed,
          batchSize,
        });
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;
      const { top1, predictions } = await evaluateTop1(
        model,
        valInputs,
        valLabels,
        sample,
        [c, c, ch],
        config.train.valBatchSize,
      );
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: lossSum / itersPerEpoch,
        valTop1: top1,
        lr,
        imagesPerSecond: (itersPerEpoch * batchSize) / trainSeconds,
        seconds: (performance.now() - epochStart) / 1000,
      };
      history = [...history, metrics];
      const isBest = top1 > best.valTop1;
      if (isBest) best = { epoch: epoch + 1, valTop1: top1 };
      const state: Omit<CheckpointState, 'variables' | 'schemaVersion'> = {
        epoch: epoch + 1,
        iteration,
        itersPerEpoch,
        rng: { order: orderRng.state() },
        best,
        classes,
        config,
        history,
      };
      const prefix = epochKey(epoch + 1);
      await writeCheckpoint(storage, prefix, model.params, sgd.slots, state);
      if (isBest) await copyCheckpoint(storage, prefix, 'best');
      await storage.put('latest.json', new TextEncoder().encode(JSON.stringify({ prefix, epoch: epoch + 1 })));
      await writeReports(storage, history, classes, valLabels, predictions);
      options.onEpoch?.(metrics);
    }
    return { history, best, classes };
  } finally {
    await pool?.close();
    await prep?.close();
    sgd.dispose();
    model.dispose();
  }
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
