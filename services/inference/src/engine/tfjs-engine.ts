/** The TensorFlow.js engine: a packages/ml zoo classifier with stored weights, eval mode. */
import * as tf from '@tensorflow/tfjs';
import { type ArchitectureConfig, type Classifier, createClassifier } from '@kzr/ml';
import { type NamedTensor } from '@kzr/artifacts';

import { EngineKind, type InferenceEngine } from './engine.js';

/** Builds a classifier and assigns `weights` (every variable must be present with its shape). */
export function buildClassifierWithWeights(
  architecture: ArchitectureConfig,
  weights: ReadonlyMap<string, NamedTensor>,
): Classifier {
  const model = createClassifier(architecture);
  try {
    for (const e of model.params.entries) {
      const w = weights.get(e.name);
      if (!w) throw new Error(`weights lack variable ${e.name}`);
      if (w.shape.length !== e.variable.shape.length || w.shape.some((d, i) => d !== e.variable.shape[i])) {
        throw new Error(`variable ${e.name}: stored shape [${w.shape.join(',')}] ≠ [${e.variable.shape.join(',')}]`);
      }
      const t = tf.tensor(w.data, e.variable.shape, 'float32');
      e.variable.assign(t);
      t.dispose();
    }
    if (weights.size !== model.params.entries.length) {
      throw new Error(`weights hold ${weights.size} tensors, the model has ${model.params.entries.length} variables`);
    }
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Wraps a classifier (taking ownership) as an engine for `side`×`side`×`channels` views. */
export function createTfjsEngine(model: Classifier, side: number, channels: number): InferenceEngine {
  let disposed = false;
  return {
    kind: EngineKind.Tfjs,
    numClasses: model.config.numClasses,
    async run(input: Float32Array, rows: number): Promise<Float32Array> {
      const logits = tf.tidy(() =>
        model.logits(tf.tensor4d(input, [rows, side, side, channels]), { training: false, updates: [] }),
      );
      try {
        return (await logits.data()) as Float32Array;
      } finally {
        logits.dispose();
      }
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      model.dispose();
      return Promise.resolve();
    },
  };
}
