/**
 * Reading a `kzr train` checkpoint directory (`<out>/best`, `<out>/epoch-0003`) as a model-set
 * member: the classifier with its weights, the class list and the inference input spec
 * (inferResize / inferCrop, mean / std), through packages/ml's public checkpoint API.
 */
import { basename, dirname } from 'node:path';

import type { CheckpointStorage, Classifier } from '@kzr/ml';

import { type InputSpec } from './model-set-manifest.js';

/** A checkpoint loaded for serving or export. */
export interface CheckpointMember {
  /** The config's name (for example `tiny-resnet-gray32`). */
  readonly name: string;
  readonly model: Classifier;
  readonly classes: readonly string[];
  readonly input: InputSpec;
}

/** Loads the checkpoint in `dir`; the caller disposes `model`. */
export async function loadCheckpointMember(dir: string): Promise<CheckpointMember> {
  const { directoryStorage } = await import('@kzr/ml');
  return loadStoredCheckpointMember(directoryStorage(dirname(dir)), basename(dir));
}

/**
 * Loads the checkpoint `prefix` (`best`, `epoch-0003`) of `storage` (a directory, or a run's
 * phase folder in the Store); the caller disposes `model`.
 */
export async function loadStoredCheckpointMember(
  storage: CheckpointStorage,
  prefix: string,
): Promise<CheckpointMember> {
  // TensorFlow.js loads here, not with the package: services that only read keys or filters never pay for it.
  const { createClassifier, loadCheckpointInto, readCheckpointState } = await import('@kzr/ml');
  const state = await readCheckpointState(storage, prefix);
  const model = createClassifier(state.config.model);
  try {
    await loadCheckpointInto(storage, prefix, model.params, state);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const input = state.config.input;
  return {
    name: state.config.name,
    model,
    classes: state.classes,
    input: {
      channels: state.config.model.inputChannels,
      scaleSize: input.inferResize,
      cropSize: input.inferCrop,
      mean: input.mean,
      std: input.std,
    },
  };
}
