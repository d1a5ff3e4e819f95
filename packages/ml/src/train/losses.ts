/**
 * Losses on cosine logits: cross-entropy against soft target rows. Plain CE, mixup
 * (λ·CE(y) + (1 − λ)·CE(y[π])) and ICAP (Σ area_k·CE(y[π_k])) are all Σ_k w_k·CE(y[π_k]), which
 * by linearity equals CE against the target row Σ_k w_k·onehot(y[π_k]); the mean is over the
 * batch. The refinement loss (spec §4.4) uses one-hot targets scaled by 0.9 for pseudo-labelled
 * crops and is *summed* over the batch.
 */
import * as tf from '@tensorflow/tfjs';

/** Builds the [N, K] target matrix Σ_k w_k·onehot(labels[perm_k[n]]). */
export function mixedTargets(
  labels: Int32Array,
  numClasses: number,
  weights: readonly number[],
  perms: readonly Int32Array[],
): Float32Array {
  const n = labels.length;
  const out = new Float32Array(n * numClasses);
  weights.forEach((w, k) => {
    const perm = perms[k]!;
    for (let i = 0; i < n; i++) out[i * numClasses + labels[perm[i]!]!]! += w;
  });
  return out;
}

/** Refinement targets: one-hot, ×0.9 where `pseudo[n]` is set. */
export function refinementTargets(
  labels: Int32Array,
  numClasses: number,
  pseudo: Uint8Array,
  pseudoWeight = 0.9,
): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  labels.forEach((y, i) => {
    out[i * numClasses + y] = pseudo[i] ? pseudoWeight : 1;
  });
  return out;
}

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
