/**
 * Checkpoints: every model variable (weights and batch-norm running statistics) in
 * `weights.bin`, the optimizer's momentum buffers in `optimizer.bin`, and `state.json` with the
 * variable manifest, the epoch count, the generator state, the class list, the best result and
 * the model configuration. `latest.json` (written last) points to the newest complete one.
 */
import * as tf from '@tensorflow/tfjs';
import type { RngState } from '@kzr/core';

import { type ModelConfig } from '../config/model-config.js';
import { CheckpointError } from '../errors.js';
import { type ParamSet } from '../nn/params.js';
import { type CheckpointStorage } from './storage.js';

/** Per-epoch metrics, also written to `metrics.jsonl`. */
export interface EpochMetrics {
  readonly epoch: number;
  readonly trainLoss: number;
  /** Held-out top-1 of the centre view (the served no-TTA view; picks `best`). */
  readonly valTop1: number;
  /** Held-out top-1 with 7-crop TTA, on the epochs it was measured (`valTtaEvery`). */
  readonly valTop1Tta?: number;
  readonly lr: number;
  readonly imagesPerSecond: number;
  readonly seconds: number;
}

/** Schema version of the `state.json` this code reads and writes. */
export const checkpointSchemaVersion = 1;

/** The JSON part of a checkpoint. */
export interface CheckpointState {
  readonly schemaVersion: typeof checkpointSchemaVersion;
  /** Completed epochs; a resumed run starts at this epoch. */
  readonly epoch: number;
  /** Completed iterations over the whole run. */
  readonly iteration: number;
  /** Iterations per epoch when written (the schedule position is epoch × this). */
  readonly itersPerEpoch: number;
  /** State of the data-order generator every other draw derives from. */
  readonly rng: { readonly order: RngState };
  readonly best: { readonly epoch: number; readonly valTop1: number };
  readonly classes: readonly string[];
  readonly config: ModelConfig;
  readonly variables: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  readonly history: readonly EpochMetrics[];
}

/** Key prefix of epoch `n` (1-based count of completed epochs): `epoch-0003`. */
export function epochKey(n: number): string {
  return `epoch-${String(n).padStart(4, '0')}`;
}

async function concat(tensors: ReadonlyArray<{ data(): Promise<unknown>; size: number }>): Promise<Uint8Array> {
  const total = tensors.reduce((s, t) => s + t.size, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const t of tensors) {
    out.set((await t.data()) as Float32Array, offset);
    offset += t.size;
  }
  return new Uint8Array(out.buffer);
}

/** Writes a checkpoint under `prefix` (weights, optimizer, state; state last). */
export async function writeCheckpoint(
  storage: CheckpointStorage,
  prefix: string,
  params: ParamSet,
  slots: ReadonlyArray<{ data(): Promise<unknown>; size: number }>,
  state: Omit<CheckpointState, 'variables' | 'schemaVersion'>,
): Promise<void> {
  await storage.put(`${prefix}/weights.bin`, await concat(params.entries.map((e) => e.variable)));
  await storage.put(`${prefix}/optimizer.bin`, await concat(slots));
  const full: CheckpointState = {
    schemaVersion: checkpointSchemaVersion,
    ...state,
    variables: params.entries.map((e) => ({ name: e.name, shape: e.variable.shape })),
  };
  await storage.put(`${prefix}/state.json`, new TextEncoder().encode(JSON.stringify(full)));
}

/**
 * Copies the checkpoint under `from` to `to` (the best epoch to `best`) through the storage's
 * copy, so its bytes are not written a second time; the state goes last, as in a write.
 */
export async function copyCheckpoint(storage: CheckpointStorage, from: string, to: string): Promise<void> {
  for (const file of ['weights.bin', 'optimizer.bin', 'state.json']) {
    await storage.copy(`${from}/${file}`, `${to}/${file}`);
  }
}

/** Reads a checkpoint's state. */
export async function readCheckpointState(storage: CheckpointStorage, prefix: string): Promise<CheckpointState> {
  const bytes = await storage.get(`${prefix}/state.json`);
  if (!bytes) throw new CheckpointError(`no checkpoint at ${storage.location}/${prefix}`);
  const state = JSON.parse(new TextDecoder().decode(bytes)) as CheckpointState;
  if (state.schemaVersion !== checkpointSchemaVersion) {
    throw new CheckpointError(
      `checkpoint ${storage.location}/${prefix} has schema version ${JSON.stringify(state.schemaVersion)}; this kzr reads ${checkpointSchemaVersion}`,
    );
  }
  return state;
}

function assignAll(bytes: Uint8Array | undefined, what: string, targets: readonly tf.Variable[]): void {
  if (!bytes) throw new CheckpointError(`checkpoint ${what} is missing`);
  const total = targets.reduce((s, t) => s + t.size, 0);
  if (bytes.byteLength !== total * 4) {
    throw new CheckpointError(`checkpoint ${what} holds ${bytes.byteLength / 4} values, the model has ${total}`);
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let offset = 0;
  for (const t of targets) {
    const value = tf.tensor(all.subarray(offset, offset + t.size), t.shape, 'float32');
    t.assign(value);
    value.dispose();
    offset += t.size;
  }
}

/** Loads weights (and, when `slots` is given, optimizer buffers) into a built model. */
export async function loadCheckpointInto(
  storage: CheckpointStorage,
  prefix: string,
  params: ParamSet,
  state: CheckpointState,
  slots?: readonly tf.Variable[],
): Promise<void> {
  if (state.variables.length !== params.entries.length) {
    throw new CheckpointError(`checkpoint has ${state.variables.length} variables, the model ${params.entries.length}`);
  }
  state.variables.forEach((v, i) => {
    const e = params.entries[i]!;
    if (v.name !== e.name || v.shape.join('x') !== e.variable.shape.join('x')) {
      throw new CheckpointError(
        `checkpoint variable ${v.name} [${v.shape.join(', ')}] does not match ${e.name} [${e.variable.shape.join(', ')}]`,
      );
    }
  });
  assignAll(
    await storage.get(`${prefix}/weights.bin`),
    'weights',
    params.entries.map((e) => e.variable),
  );
  if (slots) assignAll(await storage.get(`${prefix}/optimizer.bin`), 'optimizer slots', slots);
}
