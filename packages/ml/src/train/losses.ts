/**
 * Losses on cosine logits: cross-entropy against soft target rows. Plain CE, mixup
 * (λ·CE(y) + (1 − λ)·CE(y[π])) and ICAP (Σ area_k·CE(y[π_k])) are all Σ_k w_k·CE(y[π_k]), which
 * by linearity equals CE against the target row Σ_k w_k·onehot(y[π_k]); the mean is over the
 * batch. The refinement loss (spec §4.4) uses one-hot targets scaled by 0.9 for pseudo-labelled
 * crops and is *summed* over the batch.
 */
import * as tf from '@tensorflow/tfjs';

export { mixedTargets, refinementTargets } from './targets.js';

/** −Σ_classes t·log_softmax(logits), averaged (`mean`) or summed (`sum`) over the batch. */
export function softCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor2D,
  reduction: 'mean' | 'sum' = 'mean',
): tf.Scalar {
  return tf.tidy(() => {
    const perSample = tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1));
    return (reduction === 'mean' ? tf.mean(perSample) : tf.sum(perSample)) as tf.Scalar;
  });
}
