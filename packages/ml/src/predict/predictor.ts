/**
 * Classifying crops with one trained model (spec §5.3): for each crop the seven TTA views from
 * `@kzr/imaging` (grayscale first for 1-channel models, bicubic resize to S×S, four corners,
 * centre, semi-full, full), normalised like training; the model's output is the mean of the
 * seven logit vectors, and its probabilities softmax(mean logits). Crops are batched; every
 * tensor is freed (`tf.memory()` is unchanged across calls).
 */
import * as tf from '@tensorflow/tfjs';
import { ttaViews, type RawImage } from '@kzr/imaging';
import { normalizeInPlace, toChannels, toFloat } from '@kzr/imaging/augment';

import { type ModelConfig } from '../config/model-config.js';
import { MlValidationError } from '../errors.js';
import { createClassifier } from '../models/create-model.js';
import { type Classifier } from '../models/types.js';
import { loadCheckpointInto, readCheckpointState } from '../train/checkpoint.js';
import { type CheckpointStorage } from '../train/storage.js';

/** Number of TTA views per crop. */
export const ttaViewCount = 7;

/** One crop's result. */
export interface Prediction {
  readonly label: string;
  readonly probability: number;
  /** The best `topK` labels with probabilities, best first. */
  readonly top: ReadonlyArray<{ readonly label: string; readonly probability: number }>;
  /** The 7-view mean logits (for soft voting across models). */
  readonly logits: Float32Array;
}

/** Options of {@link Predictor.predict}. */
export interface PredictOptions {
  /** Crops per forward batch (×7 views). @default 128 */
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

  /** The seven normalised views of a crop as one Float32Array [7, C, C, ch]. */
  views(crop: RawImage): Float32Array {
    const { inferResize, inferCrop, mean, std } = this.config.input;
    const ch = this.config.model.inputChannels;
    const size = inferCrop * inferCrop * ch;
    const out = new Float32Array(ttaViewCount * size);
    const views = ttaViews(toChannels(crop, ch), { scaleSize: inferResize, cropSize: inferCrop, channels: ch });
    views.forEach((v, k) => {
      const f = toFloat(v);
      normalizeInPlace(f, mean, std);
      out.set(f.data, k * size);
    });
    return out;
  }

  /** Classifies crops (any size, 1 or 3 channels). */
  async predict(crops: readonly RawImage[], options: PredictOptions = {}): Promise<Prediction[]> {
    const batchSize = options.batchSize ?? 128;
    const topK = Math.min(options.topK ?? 5, this.classes.length);
    const c = this.config.input.inferCrop;
    const ch = this.config.model.inputChannels;
    const size = c * c * ch;
    const k = this.classes.length;
    const results: Prediction[] = [];
    for (let start = 0; start < crops.length; start += batchSize) {
      const part = crops.slice(start, start + batchSize);
      const input = new Float32Array(part.length * ttaViewCount * size);
      part.forEach((crop, i) => input.set(this.views(crop), i * ttaViewCount * size));
      const [meanLogits, probs] = tf.tidy(() => {
        const x = tf.tensor4d(input, [part.length * ttaViewCount, c, c, ch]);
        const logits = this.model.logits(x, { training: false, updates: [] });
        const m = tf.mean(tf.reshape(logits, [part.length, ttaViewCount, k]), 1);
        return [m, tf.softmax(m)];
      });
      const lv = (await meanLogits!.data()) as Float32Array;
      const pv = (await probs!.data()) as Float32Array;
      tf.dispose([meanLogits!, probs!]);
      part.forEach((_, i) => {
        const row = pv.subarray(i * k, (i + 1) * k);
        const order = Array.from(row.keys())
          .sort((a, b) => row[b]! - row[a]!)
          .slice(0, topK);
        const top = order.map((j) => ({ label: this.classes[j]!, probability: row[j]! }));
        results.push({
          label: top[0]!.label,
          probability: top[0]!.probability,
          top,
          logits: lv.slice(i * k, (i + 1) * k),
        });
      });
    }
    return results;
  }

  /** Frees the model's variables. */
  dispose(): void {
    this.model.dispose();
  }
}
