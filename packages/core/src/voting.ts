/**
 * Ensembling the classifiers' outputs for one box (spec §5.4): hard voting with probability
 * (the final submission) and soft voting over logits (first-stage models, pseudo-labels).
 */
import { compareCodeStrings } from './books.js';
import { InvalidArgumentError } from './errors.js';

/** One model's top-1 answer for a box. */
export interface Vote {
  /** The predicted code (`U+3042`). */
  code: string;
  /** That model's top-1 probability. */
  prob: number;
}

/**
 * Hard voting with probability ("hard_prob"), models in their fixed order (01..05):
 * - the label is the mode of the top-1 codes; a tie in count goes to the smaller code string
 *   (scipy's `mode`), so a 2-2-1 split picks the smaller code;
 * - if the mode occurs at least twice, the probability is the highest top-1 probability among
 *   the models that voted for it;
 * - if every model disagrees (count 1), the answer is the label and probability of the most
 *   confident model, a tie going to the later model.
 */
export function hardVote(votes: readonly Vote[]): Vote {
  if (votes.length === 0) throw new InvalidArgumentError('votes', 'at least one vote is needed');
  const counts = new Map<string, { count: number; maxProb: number }>();
  votes.forEach((vote, i) => {
    if (!Number.isFinite(vote.prob))
      throw new InvalidArgumentError(`votes[${i}].prob`, `expected a number, got ${vote.prob}`);
    const entry = counts.get(vote.code);
    if (entry === undefined) counts.set(vote.code, { count: 1, maxProb: vote.prob });
    else {
      entry.count++;
      entry.maxProb = Math.max(entry.maxProb, vote.prob);
    }
  });
  let best: [string, { count: number; maxProb: number }] | undefined;
  for (const entry of counts) {
    if (
      best === undefined ||
      entry[1].count > best[1].count ||
      (entry[1].count === best[1].count && compareCodeStrings(entry[0], best[0]) < 0)
    ) {
      best = entry;
    }
  }
  if (best![1].count >= 2) return { code: best![0], prob: best![1].maxProb };
  let top = votes[0]!;
  for (const vote of votes) if (vote.prob >= top.prob) top = vote;
  return { code: top.code, prob: top.prob };
}

/** The result of {@link softVote}. */
export interface SoftVote {
  /** Index of the top class in the summed logits (first index on a tie). */
  index: number;
  /** Its softmax probability, computed with float32 rounding as upstream (so it saturates to exactly 1). */
  prob: number;
  /** The summed logits (float32, as upstream sums torch float32 tensors). */
  logits: Float32Array;
}

/**
 * Soft voting ("soft_prob"): sum the models' logit vectors (each already the mean over the TTA
 * views), softmax, top-1. Arithmetic follows float32 like upstream's torch tensors, so the
 * "prob >= 1.0" pseudo-label rule (spec §7.1) sees the same saturation.
 */
export function softVote(modelLogits: ReadonlyArray<ArrayLike<number>>): SoftVote {
  const first = modelLogits[0];
  if (first === undefined) throw new InvalidArgumentError('modelLogits', 'at least one model is needed');
  const n = first.length;
  if (n === 0) throw new InvalidArgumentError('modelLogits[0]', 'is empty');
  const sum = new Float32Array(n);
  modelLogits.forEach((logits, m) => {
    if (logits.length !== n) {
      throw new InvalidArgumentError(`modelLogits[${m}]`, `expected ${n} logits, got ${logits.length}`);
    }
    for (let i = 0; i < n; i++) sum[i] = sum[i]! + logits[i]!;
  });
  const probs = softmaxFloat32(sum);
  let index = 0;
  for (let i = 1; i < n; i++) if (sum[i]! > sum[index]!) index = i;
  return { index, prob: probs[index]!, logits: sum };
}

/**
 * The element-wise mean of equally long vectors, in float32: a model's output for a crop is
 * the mean of its TTA views' logit vectors (spec §5.3), which {@link softVote} then sums.
 */
export function meanLogits(views: ReadonlyArray<ArrayLike<number>>): Float32Array {
  const first = views[0];
  if (first === undefined) throw new InvalidArgumentError('views', 'at least one view is needed');
  const n = first.length;
  const out = new Float32Array(n);
  views.forEach((view, v) => {
    if (view.length !== n) throw new InvalidArgumentError(`views[${v}]`, `expected ${n} values, got ${view.length}`);
    for (let i = 0; i < n; i++) out[i] = out[i]! + view[i]!;
  });
  for (let i = 0; i < n; i++) out[i] = out[i]! / views.length;
  return out;
}

/** Softmax in float32 arithmetic (max-subtracted for stability). */
export function softmaxFloat32(logits: ArrayLike<number>): Float32Array {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  if (!Number.isFinite(max)) throw new InvalidArgumentError('logits', 'must be finite');
  const out = new Float32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    out[i] = Math.exp(Math.fround(logits[i]! - max));
    total = Math.fround(total + out[i]!);
  }
  for (let i = 0; i < n; i++) out[i] = out[i]! / total;
  return out;
}
