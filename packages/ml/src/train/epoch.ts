/**
 * One training epoch: its batches in the epoch's sample order, each planned into shards and
 * trained as one step. Batches are built one ahead of compute (by the batch worker, or on this
 * thread while the gradient workers compute), and with workers each step is planned before the
 * previous update is sent, so a worker starts it right after its own update.
 */
import { type ModelConfig } from '../config/model-config.js';
import { MlValidationError } from '../errors.js';
import { type BatchPrep, type WorkerBatch } from './batch-prep.js';
import { prepareTrainBatch } from './batches.js';
import { type LabelledCrop } from './dataset.js';
import { readFlat } from './host-memory.js';
import { planStep, stepLearningRate, type StepPlan } from './step-plan.js';
import { runTrainingStep, type StepRunner } from './training-step.js';

/** One iteration's report. Epochs and iterations count from 1, like the epoch lines and checkpoints. */
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

/** What every epoch of a run shares. */
export interface EpochTrainerOptions {
  readonly config: ModelConfig;
  readonly runner: StepRunner;
  /** Data-parallel shards per batch (1 + the pool's workers). */
  readonly shards: number;
  readonly crops: readonly LabelledCrop[];
  /** Class index of each crop. */
  readonly labels: readonly number[];
  readonly refine?: { readonly lr: number } | undefined;
  /** The batch worker; without it this thread builds the batches. */
  readonly prep?: BatchPrep | undefined;
  /** The run's epoch count (reported per iteration). */
  readonly epochs: number;
  readonly onIteration?: ((info: IterationInfo) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What an epoch's training did. */
export interface EpochTraining {
  readonly itersPerEpoch: number;
  /** Mean loss of the epoch's steps. */
  readonly trainLoss: number;
  /** Learning rate of the last step. */
  readonly lr: number;
  /** When the epoch started (`performance.now()`) and how long its steps took. */
  readonly startedAtMs: number;
  readonly trainSeconds: number;
}

/** Trains epoch after epoch of one run; the workers' synchronisation carries across epochs. */
export class EpochTrainer {
  private readonly options: EpochTrainerOptions;
  /** The workers copy the weights and momentum buffers at the first step of this run only. */
  private syncWorkers = true;
  /** Steps planned so far (alternates the workers' gradient buffers). */
  private planned = 0;

  constructor(options: EpochTrainerOptions) {
    this.options = options;
  }

  /** Trains one epoch over `order` (indices into the crops) with the epoch's seed. */
  async train(epoch: number, epochSeed: number, order: Int32Array): Promise<EpochTraining> {
    const { config, runner, crops, labels, refine, prep, signal } = this.options;
    const { batchSize } = config.train;
    const itersPerEpoch = Math.floor(order.length / batchSize);
    if (itersPerEpoch === 0) {
      throw new MlValidationError('config.train.batchSize', `${batchSize} exceeds the ${order.length} training crops`);
    }
    const startedAtMs = performance.now();
    const prepare = (iter: number): WorkerBatch =>
      prepareTrainBatch(
        config,
        crops,
        labels,
        runner.numClasses,
        order.subarray(iter * batchSize, (iter + 1) * batchSize),
        epochSeed,
        iter,
        refine !== undefined,
      );
    prep?.startEpoch(epochSeed, order);
    const plan = (batch: WorkerBatch, iter: number): StepPlan => {
      const buffer = this.planned % 2 === 0 ? 0 : 1;
      this.planned++;
      return planStep({
        batch,
        lr: stepLearningRate(config, refine, itersPerEpoch, epoch, iter),
        shards: this.options.shards,
        sampleSize: runner.sampleShape[0] * runner.sampleShape[1] * runner.sampleShape[2],
        numClasses: runner.numClasses,
        reduction: runner.reduction,
        epochSeed,
        iter,
        buffer,
      });
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
    let lossSum = 0;
    let lr = 0;
    for (let iter = 0; iter < itersPerEpoch; iter++) {
      signal?.throwIfAborted();
      const step = startedStep ?? (await this.startShards(plan(await takeBatch(iter), iter)));
      startedStep = undefined;
      lr = step.lr;
      const hasNext = iter + 1 < itersPerEpoch;
      const loss = await runTrainingStep(
        runner,
        step,
        { epoch, iter },
        {
          // Without a batch worker, build the next batch while the worker threads compute.
          afterLocalPass: prep ? undefined : () => (nextBatch = hasNext ? prepare(iter + 1) : undefined),
          nextRequests: async () => {
            if (hasNext) startedStep = plan(await takeBatch(iter + 1), iter + 1);
            return startedStep?.requests;
          },
        },
      );
      lossSum += loss;
      const elapsed = (performance.now() - startedAtMs) / 1000;
      this.options.onIteration?.({
        epoch: epoch + 1,
        iter: iter + 1,
        itersPerEpoch,
        epochs: this.options.epochs,
        loss,
        lr,
        imagesPerSecond: ((iter + 1) * batchSize) / elapsed,
        batchSize,
      });
    }
    return {
      itersPerEpoch,
      trainLoss: lossSum / itersPerEpoch,
      lr,
      startedAtMs,
      trainSeconds: (performance.now() - startedAtMs) / 1000,
    };
  }

  /** Sends a planned step's shards to the workers (with the weights, at the run's first step). */
  private async startShards(step: StepPlan): Promise<StepPlan> {
    const { pool, vars, sgd } = this.options.runner;
    if (pool) {
      if (this.syncWorkers) {
        await readFlat(vars, pool.params);
        await readFlat(sgd.slots, pool.slots);
      }
      pool.start(step.requests, this.syncWorkers);
      this.syncWorkers = false;
    }
    return step;
  }
}
