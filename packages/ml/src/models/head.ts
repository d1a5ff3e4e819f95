/**
 * The cosine head ("L2-constrained softmax" upstream, `util/metrics.py` L2Softmax): logits =
 * α · cos(f, w_j) with both the pooled feature f and every class weight w_j L2-normalised, no
 * bias, α = 1/T = 20, W initialised Xavier-uniform.
 */
import * as tf from '@tensorflow/tfjs';

import { type BuildContext } from '../nn/layers.js';
import { uniformInit } from '../nn/params.js';

/** Default scale α = 1 / 0.05. */
export const defaultHeadScale = 20;

/** L2-normalises along `axis` like PyTorch `F.normalize` (eps 1e-12). */
export function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  const norm = tf.sqrt(tf.sum(tf.square(x), axis, true));
  return tf.div(x, tf.maximum(norm, 1e-12));
}

/** Builds the head's weight `head.weight` [D, numClasses] and returns the logit function. */
export function buildCosineHead(
  b: BuildContext,
  featureDim: number,
  numClasses: number,
  scale = defaultHeadScale,
): (features: tf.Tensor2D) => tf.Tensor2D {
  const bound = Math.sqrt(6 / (featureDim + numClasses));
  const w = b.params.add('head.weight', [featureDim, numClasses], uniformInit(b.rng, featureDim * numClasses, bound));
  return (features) =>
    tf.mul(tf.matMul(l2Normalize(features, 1) as tf.Tensor2D, l2Normalize(w, 0) as tf.Tensor2D), scale);
}
