/**
 * Soft target rows for the losses of `losses.ts` (plain arrays, no tfjs, so the batch worker
 * thread builds them without loading TensorFlow.js).
 */

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
