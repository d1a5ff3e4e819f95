/**
 * The training loop (spec §4): per-epoch undersampling and shuffling, augmented batches, SGD
 * with momentum and weight decay under the warmup + MultiStep / cosine schedule, validation
 * top-1 of the held-out crops through the predictor (the served views: centre every epoch, TTA
 * every `valTtaEvery` epochs and at the last) after every epoch, a checkpoint per epoch
 * (weights, optimizer slots, schedule position, generator state, epoch), the best by val top-1
 * copied to `best/`, and `--resume` from `latest.json`. On wasm / cpu with one process the run
 * is deterministic, so a resumed run repeats the interrupted epoch bit for bit. A NaN or
 * infinite loss stops the run before the bad update, keeping the last good checkpoint.
 *
 * The parts live in their own modules: where the run starts (`resume.ts`), the epoch's steps
 * (`epoch.ts`, planned by `step-plan.ts`, each run by `training-step.ts`) and what an epoch
 * leaves on storage (`epoch-checkpoint.ts`).
 */
import { type BackendName } from '../backend/select-backend.js';
import { type ModelConfig } from '../config/model-config.js';
import { MlValidationError } from '../errors.js';
import { createClassifier } from '../models/create-model.js';
import { Predictor } from '../predict/predictor.js';
import { View, viewInputs } from '../predict/views.js';
import { BatchPrep } from './batch-prep.js';
import { type EpochMetrics } from './checkpoint.js';
import { classList, epochOrder, type LabelledCrop } from './dataset.js';
import { EpochTrainer, type IterationInfo } from './epoch.js';
import { checkpointEpoch } from './epoch-checkpoint.js';
import { GradWorkerPool } from './parallel.js';
import { startingProgress } from './resume.js';
import { scaleSchedule } from './schedule.js';
import { Sgd } from './sgd.js';
import { type CheckpointStorage } from './storage.js';

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
  /** Override the config's epoch count; warmup, milestones and cosine length scale with it ({@link scaleSchedule}). */
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
  /**
   * Measure the held-out TTA top-1 (7 views per crop, so 7× the centre's forward cost) every
   * this many epochs and at the last; 0: never. @default 5
   */
  readonly valTtaEvery?: number;
  /** Backend the worker threads load (the trainer's own). @default 'wasm' */
  readonly backend?: BackendName;
}

/** What {@link train} returns. */
export interface TrainResult {
  readonly history: readonly EpochMetrics[];
  readonly best: { readonly epoch: number; readonly valTop1: number };
  readonly classes: readonly string[];
}

/** Top-1 accuracy of mean-over-views logits [n, K] and each crop's argmax. */
function top1Of(logits: Float32Array, labels: readonly number[]): { top1: number; predictions: Int32Array } {
  const n = labels.length;
  const k = n === 0 ? 0 : logits.length / n;
  const predictions = new Int32Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
    predictions[i] = best;
    if (best === labels[i]) correct++;
  }
  return { top1: n === 0 ? 0 : correct / n, predictions };
}

/** Trains a model; see the module comment. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { storage } = options;
  const classes = classList(options.train);
  if (classes.length < 2) throw new MlValidationError('train', `needs at least 2 classes, found ${classes.length}`);
  const config: ModelConfig = {
    ...options.config,
    model: { ...options.config.model, numClasses: classes.length },
    train: scaleSchedule(options.config.train, options.epochs ?? options.config.train.epochs),
  };
  const epochs = config.train.epochs;
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const labels = options.train.map((c) => classIndex.get(c.label)!);
  const valLabels = options.val.map((c) => classIndex.get(c.label) ?? -1);
  const refine = options.refine;
  const undersampling = refine ? 0 : config.train.undersampling;
  const shards = Math.max(1, Math.min(options.workers ?? 1, config.train.batchSize));

  const model = createClassifier(config.model);
  const vars = model.params.trainable();
  const sgd = new Sgd(vars, { momentum: config.train.momentum, weightDecay: config.train.weightDecay });
  const paramCount = vars.reduce((s, v) => s + v.size, 0);
  let threads: TrainingThreads = {};
  try {
    threads = await startThreads(options, config, labels, classes.length, shards, paramCount);
    const start = await startingProgress({
      storage,
      resume: options.resume ?? false,
      seed: config.train.seed,
      classes,
      model,
      sgd,
    });
    const { orderRng } = start;
    let { iteration, best, history } = start;
    const c = config.input.trainCrop;
    const ch = config.model.inputChannels;
    const sampleShape = [c, c, ch] as const;
    // Validation classifies through the predictor, with the served view inputs: the centre
    // view every epoch (it picks `best`), TTA every `valTtaEvery` epochs and at the last.
    const predictor = new Predictor(model, config, classes);
    const valCrops = options.val.map((v) => v.image);
    const valCentre = viewInputs(valCrops, predictor.input, View.Centre);
    const ttaEvery = options.valTtaEvery ?? 5;
    const epochTrainer = new EpochTrainer({
      config,
      runner: {
        model,
        vars,
        sgd,
        sampleShape,
        numClasses: classes.length,
        reduction: refine ? 'sum' : 'mean',
        pool: threads.pool,
        localBuffer: new Float32Array(paramCount),
        gradBuffer: new Float32Array(paramCount),
      },
      shards,
      crops: options.train,
      labels,
      refine,
      prep: threads.prep,
      epochs,
      onIteration: options.onIteration,
      signal: options.signal,
    });

    for (let epoch = start.epoch; epoch < epochs; epoch++) {
      const epochSeed = orderRng.nextUint32();
      const order = epochOrder(options.train, { maxPerClass: undersampling, seed: config.train.seed, epoch }, orderRng);
      const trained = await epochTrainer.train(epoch, epochSeed, order);
      iteration += trained.itersPerEpoch;
      const batch = config.train.valBatchSize;
      const { top1, predictions } = top1Of(
        await predictor.logits(valCentre, valCrops.length, View.Centre, batch),
        valLabels,
      );
      const measureTta = ttaEvery > 0 && ((epoch + 1) % ttaEvery === 0 || epoch + 1 === epochs);
      const tta = measureTta
        ? top1Of(
            await predictor.logits(viewInputs(valCrops, predictor.input, View.Tta), valCrops.length, View.Tta, batch),
            valLabels,
          ).top1
        : undefined;
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: trained.trainLoss,
        valTop1: top1,
        ...(tta === undefined ? {} : { valTop1Tta: tta }),
        lr: trained.lr,
        imagesPerSecond: (trained.itersPerEpoch * config.train.batchSize) / trained.trainSeconds,
        seconds: (performance.now() - trained.startedAtMs) / 1000,
      };
      history = [...history, metrics];
      // A tie goes to the later epoch: it has trained longer at a lower learning rate, and small
      // validation books tie often (a first model's later tied epoch carried over to the held-out
      // brush font at 0.775 top-1 against 0.565 for the earlier one).
      const isBest = top1 >= best.valTop1;
      if (isBest) best = { epoch: epoch + 1, valTop1: top1 };
      const state = {
        epoch: epoch + 1,
        iteration,
        itersPerEpoch: trained.itersPerEpoch,
        rng: { order: orderRng.state() },
        best,
        classes,
        config,
        history,
      };
      await checkpointEpoch(storage, model, sgd, { state, isBest, valLabels, predictions });
      options.onEpoch?.(metrics);
    }
    return { history, best, classes };
  } finally {
    await threads.pool?.close();
    await threads.prep?.close();
    sgd.dispose();
    model.dispose();
  }
}

/** The helper threads of a run: gradient workers (shards 1, 2, …) and the batch worker. */
interface TrainingThreads {
  readonly pool?: GradWorkerPool | undefined;
  readonly prep?: BatchPrep | undefined;
}

/** Starts the run's helper threads together; when one fails to start, the other is closed. */
async function startThreads(
  options: TrainOptions,
  config: ModelConfig,
  labels: readonly number[],
  numClasses: number,
  shards: number,
  paramCount: number,
): Promise<TrainingThreads> {
  const [pool, prep] = await Promise.allSettled([
    shards > 1
      ? GradWorkerPool.start(shards - 1, options.backend ?? 'wasm', config.model, config.input.trainCrop, paramCount, {
          momentum: config.train.momentum,
          weightDecay: config.train.weightDecay,
        })
      : undefined,
    options.batchWorker === false
      ? undefined
      : BatchPrep.start(config, options.train, labels, numClasses, options.refine !== undefined),
  ]);
  if (pool.status === 'fulfilled' && prep.status === 'fulfilled') return { pool: pool.value, prep: prep.value };
  if (pool.status === 'fulfilled') await pool.value?.close();
  if (prep.status === 'fulfilled') await prep.value?.close();
  throw pool.status === 'rejected' ? pool.reason : (prep as PromiseRejectedResult).reason;
}
