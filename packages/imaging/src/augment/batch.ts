/**
 * Batch-level augmentation on normalised float batches [N, H, W, C] (spec §3.2–§3.4): mixup,
 * ICAP (four quadrants from four permutations at the same positions) and RandomErasing with
 * uniform noise. Each returns the targets' mixing weights; the loss is computed in `@kzr/ml`.
 */
import type { Rng } from '@kzr/core';

/** How a mixed batch's loss is weighted: Σ_k weight_k · CE(logits, labels[perm_k]). */
export interface BatchMixing {
  readonly weights: readonly number[];
  /** One permutation per weight (identity for the unmixed part). */
  readonly perms: readonly Int32Array[];
}

function identity(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return p;
}

/** The mixing of an unmixed batch. */
export function noMixing(n: number): BatchMixing {
  return { weights: [1], perms: [identity(n)] };
}

/**
 * RandomErasing in place on each of the `n` images with probability `p`: up to 100 tries of area
 * U(0.02, 0.4)·H·W and ratio U(0.3, 1/0.3); the rectangle, in every channel, gets U[0, 1) noise.
 */
export function randomErasing(
  batch: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  p: number,
  rng: Rng,
  area: readonly [number, number] = [0.02, 0.4],
  ratio: readonly [number, number] = [0.3, 1 / 0.3],
): void {
  for (let img = 0; img < n; img++) {
    if (rng.next() >= p) continue;
    for (let attempt = 0; attempt < 100; attempt++) {
      const target = rng.uniform(area[0], area[1]) * h * w;
      const r = rng.uniform(ratio[0], ratio[1]);
      const eh = Math.round(Math.sqrt(target * r));
      const ew = Math.round(Math.sqrt(target / r));
      if (ew < w && eh < h) {
        const top = rng.int(h - eh);
        const left = rng.int(w - ew);
        const base = img * h * w * c;
        for (let y = top; y < top + eh; y++) {
          for (let x = left; x < left + ew; x++) {
            for (let k = 0; k < c; k++) batch[base + (y * w + x) * c + k] = rng.next();
          }
        }
        break;
      }
    }
  }
}

/** Mixup in place: x' = λ·x + (1 − λ)·x[π], λ ~ Beta(α, α), one draw and one π per batch. */
export function mixup(batch: Float32Array, n: number, alpha: number, rng: Rng): BatchMixing {
  const lambda = rng.beta(alpha, alpha);
  const perm = rng.permutation(n);
  const size = batch.length / n;
  const source = batch.slice();
  for (let i = 0; i < n; i++) {
    const a = i * size;
    const b = perm[i]! * size;
    for (let j = 0; j < size; j++) batch[a + j] = lambda * source[a + j]! + (1 - lambda) * source[b + j]!;
  }
  return { weights: [lambda, 1 - lambda], perms: [identity(n), perm] };
}

/**
 * ICAP in place, with probability `p` per batch (drawn for every batch, as intended upstream):
 * split point w = round(W·Beta(β, β)) on columns and h = round(H·Beta(β, β)) on rows; region k
 * of image n comes from image π_k(n) at the same position; weights are the region areas.
 */
export function icap(
  batch: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  beta: number,
  p: number,
  rng: Rng,
): BatchMixing {
  if (rng.next() >= p) return noMixing(n);
  const splitW = Math.round(w * rng.beta(beta, beta));
  const splitH = Math.round(h * rng.beta(beta, beta));
  const perms = [rng.permutation(n), rng.permutation(n), rng.permutation(n), rng.permutation(n)];
  const regions = [
    [0, splitH, 0, splitW],
    [0, splitH, splitW, w],
    [splitH, h, 0, splitW],
    [splitH, h, splitW, w],
  ] as const;
  const source = batch.slice();
  const size = h * w * c;
  regions.forEach(([y0, y1, x0, x1], k) => {
    const perm = perms[k]!;
    for (let i = 0; i < n; i++) {
      const dst = i * size;
      const src = perm[i]! * size;
      for (let y = y0; y < y1; y++) {
        const start = (y * w + x0) * c;
        const end = (y * w + x1) * c;
        batch.set(source.subarray(src + start, src + end), dst + start);
      }
    }
  });
  const weights = regions.map(([y0, y1, x0, x1]) => ((y1 - y0) * (x1 - x0)) / (h * w));
  return { weights, perms };
}
