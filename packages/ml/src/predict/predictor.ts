/**
 * Classifying crops with one trained model (spec §5.3): each crop becomes its views
 * (`views.ts`: the centre crop, or the seven TTA crops), the model's output for the crop is the
 * mean of its views' logits and its probabilities softmax(mean logits). Training validation
 * and `kzr predict` classify through this class; the inference service feeds the same view
 * inputs to its engines. Crops are batched; every tensor is freed (`tf.memory()` is unchanged
 * across calls).
 */
import * as tf from '@tensorflow/tfjs';
import { softmaxFloat32 } from '@kzr/core';
import { type RawImage } from '@kzr/imaging';

import { type ModelConfig } from '../config/model-config.js';
import { MlValidationError } from '../errors.js';
import { createClassifier } from '../models/create-model.js';
import { type Classifier } from '../models/types.js';
import { loadCheckpointInto, readCheckpointState } from '../train/checkpoint.js';
import { type CheckpointStorage } from '../train/storage.js';
import { meanOverViews, View, viewInput, viewInputs, viewsPerCrop, type ViewInput } from './views.js';

/** One crop's result. */
export interface Prediction {
  readonly label: string;
  readonly probability: number;
  /** The best `topK` labels with probabilities, best first. */
  readonly top: ReadonlyArray<{ readonly label: string; readonly probability: number }>;
  /** The mean of the views' logits (for soft voting across models). */
  readonly logits: Float32Array;
}

/** Options of {@link Predictor.predict}. */
export interface PredictOptions {
  /** @default View.Tta */
  readonly view?: View;
  /** Crops per forward batch (× views per crop). @default 128 */
  readonly batchSize?: number;
  /** @default 5 */
  readonly topK?: number;
}

/** A loaded model with its class list, ready to classify crops. */
export class Predictor {
  readonly config: ModelConfig;
  readonly classes: readonly string[];
  private readonly model: Classifier;

  constructor(model: Classifier, config: ModelConfig, classes: readonly string[]) {
    if (classes.length !== config.model.numClasses) {
      throw new MlValidationError('classes', `${classes.length} classes for a ${config.model.numClasses}-class model`);
    }
    this.model = model;
    this.config = config;
    this.classes = classes;
  }

  /** Loads a checkpoint (`best`, `epoch-0003`, …) from storage; warms the model up. */
  static async load(storage: CheckpointStorage, prefix: string): Promise<Predictor> {
    const state = await readCheckpointState(storage, prefix);
    const model = createClassifier(state.config.model);
    try {
      await loadCheckpointInto(storage, prefix, model.params, state);
      const predictor = new Predictor(model, state.config, state.classes);
      const c = state.config.input.inferCrop;
      const warm = tf.tidy(() =>
        model.logits(tf.zeros([1, c, c, state.config.model.inputChannels]), { training: false, updates: [] }),
      );
      await warm.data();
      warm.dispose();
      return predictor;
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** The served input of the model (inference geometry, channels, normalisation). */
  get input(): ViewInput {
    return viewInput(this.config);
  }

  /**
   * The mean-over-views logits [n, K] of `n` crops whose view inputs ({@link viewInputs}) are
   * `inputs`; `batchSize` crops per forward pass.
   */
  async logits(inputs: Float32Array, n: number, view: View, batchSize = 128): Promise<Float32Array> {
    const { cropSize: c, channels: ch } = this.input;
    const size = c * c * ch;
    const views = viewsPerCrop(view);
    const k = this.classes.length;
    const out = new Float32Array(n * k);
    const ctx = { training: false, updates: [] };
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      const rows = count * views;
      const t = tf.tidy(() =>
        this.model.logits(
          tf.tensor4d(inputs.subarray(start * views * size, (start + count) * views * size), [rows, c, c, ch]),
          ctx,
        ),
      );
      try {
        out.set(meanOverViews((await t.data()) as Float32Array, count, view, k), start * k);
      } finally {
        t.dispose();
      }
    }
    return out;
  }

  /** Classifies crops (any size, 1 or 3 channels). */
  async predict(crops: readonly RawImage[], options: PredictOptions = {}): Promise<Prediction[]> {
    const view = options.view ?? View.Tta;
    const topK = Math.min(options.topK ?? 5, this.classes.length);
    const k = this.classes.length;
    const logits = await this.logits(viewInputs(crops, this.input, view), crops.length, view, options.batchSize);
    return crops.map((_, i) => {
      const row = logits.slice(i * k, (i + 1) * k);
      const probs = softmaxFloat32(row);
      // Ranked by logit (ties by index), so the top-1 is the logits' first argmax on every path.
      const top = Array.from(row.keys())
        .sort((a, b) => row[b]! - row[a]! || a - b)
        .slice(0, topK)
        .map((j) => ({ label: this.classes[j]!, probability: probs[j]! }));
      return { label: top[0]!.label, probability: top[0]!.probability, top, logits: row };
    });
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.model.dispose();
  }
}
