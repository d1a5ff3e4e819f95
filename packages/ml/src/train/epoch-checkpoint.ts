/**
 * The end of an epoch on storage: the epoch's checkpoint, a copy of it as `best` when the epoch
 * improved on the best (a Store copy, not a second write), `latest.json` (written after the
 * checkpoint, so it always names a complete one) and the reports (metrics, curves, confusion
 * summary).
 */
import { type Classifier } from '../models/types.js';
import { type CheckpointState, copyCheckpoint, epochKey, writeCheckpoint } from './checkpoint.js';
import { writeReports } from './reports.js';
import { type Sgd } from './sgd.js';
import { type CheckpointStorage } from './storage.js';

/** The checkpoint state of an epoch, less what {@link writeCheckpoint} adds. */
export type EpochState = Omit<CheckpointState, 'variables' | 'schemaVersion'>;

/** What an epoch leaves besides the weights. */
export interface EpochOutcome {
  readonly state: EpochState;
  /** Whether the epoch is the best so far (then it is also kept as `best`). */
  readonly isBest: boolean;
  /** Class index of each validation crop and the model's prediction for it. */
  readonly valLabels: readonly number[];
  readonly predictions: Int32Array;
}

/** Writes everything the end of an epoch keeps; see the module comment. */
export async function checkpointEpoch(
  storage: CheckpointStorage,
  model: Classifier,
  sgd: Sgd,
  outcome: EpochOutcome,
): Promise<void> {
  const { state } = outcome;
  const prefix = epochKey(state.epoch);
  await writeCheckpoint(storage, prefix, model.params, sgd.slots, state);
  if (outcome.isBest) await copyCheckpoint(storage, prefix, 'best');
  await storage.put('latest.json', new TextEncoder().encode(JSON.stringify({ prefix, epoch: state.epoch })));
  await writeReports(storage, state.history, state.classes, outcome.valLabels, outcome.predictions);
}
