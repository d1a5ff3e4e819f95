/**
 * The bare training step both bench/train scripts time: the tiny ResNet of
 * configs/models/tiny-resnet-gray32.json on wasm, one fixed random batch, forward + backward +
 * SGD update + batch-norm running statistics, on one thread (no augmentation, no workers).
 */
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs';
import {
  applyBatchNormUpdates,
  createClassifier,
  initBackend,
  readModelConfig,
  Sgd,
  softCrossEntropy,
  type Classifier,
} from '@kzr/ml';

/** The bench's model configuration. */
export const tinyResNetConfigPath = fileURLToPath(
  new URL('../../configs/models/tiny-resnet-gray32.json', import.meta.url),
);

/** A model, its input batch and one training step over it. */
export interface BareStep {
  readonly model: Classifier;
  /** The batch, NHWC. */
  readonly x: tf.Tensor4D;
  /** Runs one training step and waits for its loss. */
  step(): Promise<void>;
  /** Frees the model, the optimizer and the batch. */
  dispose(): void;
}

/** Builds the tiny ResNet on the wasm backend and a step over a seeded batch of `batch` images. */
export async function bareTrainingStep(batch: number): Promise<BareStep> {
  await initBackend({ backend: 'wasm' });
  const config = await readModelConfig(tinyResNetConfigPath);
  const model = createClassifier(config.model);
  const vars = model.params.trainable();
  const sgd = new Sgd(vars, { momentum: 0.9, weightDecay: 1e-4 });
  const c = config.input.trainCrop;
  const k = config.model.numClasses;
  const x = tf.randomNormal([batch, c, c, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const t = tf.oneHot(tf.randomUniform([batch], 0, k, 'int32', 2) as tf.Tensor1D, k).toFloat() as tf.Tensor2D;
  return {
    model,
    x,
    async step(): Promise<void> {
      const ctx = { training: true, updates: [] as Array<[tf.Variable, tf.Tensor]> };
      const { value, grads } = tf.variableGrads(() => softCrossEntropy(model.logits(x, ctx), t), vars);
      await value.data();
      sgd.step(
        vars.map((v) => grads[v.name]!),
        0.01,
      );
      applyBatchNormUpdates(ctx);
      tf.dispose([value, ...Object.values(grads)]);
    },
    dispose(): void {
      tf.dispose([x, t]);
      sgd.dispose();
      model.dispose();
    },
  };
}
