/**
 * Where a run starts: from scratch, or (`--resume`) from the checkpoint `latest.json` names,
 * with its weights, momentum buffers, epoch, best result, history and the data-order
 * generator's state, so the resumed run continues the interrupted one bit for bit.
 */
import { createRng, restoreRng, type Rng } from '@kzr/core';

import { MlValidationError } from '../errors.js';
import { type Classifier } from '../models/types.js';
import { type EpochMetrics, loadCheckpointInto, readCheckpointState } from './checkpoint.js';
import { type Sgd } from './sgd.js';
import { type CheckpointStorage } from './storage.js';

/** A run's position between epochs. */
export interface RunProgress {
  /** Completed epochs; the next epoch to train. */
  readonly epoch: number;
  /** Completed iterations over the whole run. */
  readonly iteration: number;
  readonly best: { readonly epoch: number; readonly valTop1: number };
  readonly history: readonly EpochMetrics[];
  /** The data-order generator: each epoch's seed and shuffle come from it. */
  readonly orderRng: Rng;
}

/** What {@link startingProgress} needs. */
export interface ResumeOptions {
  readonly storage: CheckpointStorage;
  /** Continue from `latest.json` when there is one. */
  readonly resume: boolean;
  /** The run's seed (a fresh start's data order). */
  readonly seed: number;
  /** The run's class list; a checkpoint of another one is refused. */
  readonly classes: readonly string[];
  /** The freshly built model and optimizer; a resume loads the checkpoint into them. */
  readonly model: Classifier;
  readonly sgd: Sgd;
}

/** The progress of a fresh run. */
function freshProgress(seed: number): RunProgress {
  return { epoch: 0, iteration: 0, best: { epoch: -1, valTop1: -1 }, history: [], orderRng: createRng(seed) };
}

/**
 * The run's starting point: the latest checkpoint's progress (loaded into the model and the
 * optimizer) when resuming and there is one, else a fresh start.
 */
export async function startingProgress(o: ResumeOptions): Promise<RunProgress> {
  const latest = o.resume ? await o.storage.get('latest.json') : undefined;
  if (!latest) return freshProgress(o.seed);
  const { prefix } = JSON.parse(new TextDecoder().decode(latest)) as { prefix: string };
  const state = await readCheckpointState(o.storage, prefix);
  if (state.classes.join('\n') !== o.classes.join('\n')) {
    throw new MlValidationError('resume', 'the checkpoint was trained on a different class list');
  }
  await loadCheckpointInto(o.storage, prefix, o.model.params, state, o.sgd.slots);
  return {
    epoch: state.epoch,
    iteration: state.iteration,
    best: { ...state.best },
    history: [...state.history],
    orderRng: restoreRng(state.rng.order),
  };
}
