/**
 * Classifying crops with a loaded model set (spec §5.3–§5.4): per member, the crop becomes the
 * view inputs of `@kzr/ml` (seven TTA views, or the centre view without TTA: the same tensors
 * training validation and `kzr predict` classify); the member's logits for the crop are the
 * mean of its views' logits (`meanOverViews`); the members are then combined
 * by hard voting with probability or by soft voting (sum of logits, softmax), per request.
 * Every member's rows go through its dynamic batcher, so concurrent requests share batches.
 */
import { hardVote, softmaxFloat32, softVote } from '@kzr/core';
import { type RawImage } from '@kzr/imaging';
import { type InputSpec, VotingMode } from '@kzr/artifacts';
import { meanOverViews, View, viewInputs, viewsPerCrop } from '@kzr/ml';

import { type LoadedModelSet } from '../models/load-model-set.js';

/** Options of {@link classifyCrops}. */
export interface ClassifyOptions {
  /** 7-crop TTA (spec §5.3); false uses the centre view only. @default true */
  readonly tta?: boolean;
  /** @default the set's manifest voting */
  readonly voting?: VotingMode;
  /** Labels per crop in `top`. @default 5 */
  readonly topK?: number;
}

/** One label with its probability. */
export interface LabelScore {
  readonly index: number;
  readonly code: string;
  readonly probability: number;
}

/** The ensemble's answer for one crop. */
export interface CropPrediction {
  /** The voted label and its probability (§5.4). */
  readonly label: LabelScore;
  /**
   * The class distribution: softmax of the summed logits (soft voting) or the mean of the
   * members' softmax (hard voting). Sums to 1.
   */
  readonly probabilities: Float32Array;
  /** The best labels, the voted one first, then by `probabilities`. */
  readonly top: readonly LabelScore[];
}

function specKey(s: InputSpec): string {
  return JSON.stringify([s.channels, s.scaleSize, s.cropSize, s.mean, s.std]);
}

/** Each member's mean-over-views logits per crop: `[member][crop]`. */
export async function memberLogits(
  set: LoadedModelSet,
  crops: readonly RawImage[],
  tta: boolean,
): Promise<Float32Array[][]> {
  const view = tta ? View.Tta : View.Centre;
  const rowsBySpec = new Map<string, Float32Array>();
  for (const m of set.members) {
    const key = specKey(m.input);
    if (!rowsBySpec.has(key)) rowsBySpec.set(key, viewInputs(crops, m.input, view));
  }
  const k = set.codes.length;
  return Promise.all(
    set.members.map(async (m) => {
      const rows = await m.batcher.submit(rowsBySpec.get(specKey(m.input))!, crops.length * viewsPerCrop(view));
      const logits = meanOverViews(rows, crops.length, view, k);
      return crops.map((_, i) => logits.subarray(i * k, (i + 1) * k));
    }),
  );
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Combines members' per-crop logits by `voting`. */
export function vote(
  codes: readonly string[],
  perMember: readonly Float32Array[],
  voting: VotingMode,
  topK: number,
): CropPrediction {
  let label: LabelScore;
  let probabilities: Float32Array;
  if (voting === VotingMode.Soft) {
    const s = softVote(perMember);
    probabilities = softmaxFloat32(s.logits);
    label = { index: s.index, code: codes[s.index]!, probability: s.prob };
  } else {
    const probs = perMember.map((l) => softmaxFloat32(l));
    const votes = probs.map((p) => {
      const i = argmax(p);
      return { code: codes[i]!, prob: p[i]! };
    });
    const v = hardVote(votes);
    probabilities = new Float32Array(codes.length);
    for (const p of probs)
      for (let i = 0; i < p.length; i++) probabilities[i] = probabilities[i]! + p[i]! / probs.length;
    const index = codes.indexOf(v.code);
    label = { index, code: v.code, probability: v.prob };
  }
  const order = Array.from(probabilities.keys())
    .filter((i) => i !== label.index)
    .sort((a, b) => probabilities[b]! - probabilities[a]!)
    .slice(0, Math.max(0, topK - 1));
  const top = [label, ...order.map((i) => ({ index: i, code: codes[i]!, probability: probabilities[i]! }))];
  return { label, probabilities, top: top.slice(0, Math.max(1, topK)) };
}

/** Classifies crops with the ensemble of `set`. */
export async function classifyCrops(
  set: LoadedModelSet,
  crops: readonly RawImage[],
  options: ClassifyOptions = {},
): Promise<CropPrediction[]> {
  const tta = options.tta ?? true;
  const voting = options.voting ?? set.manifest.voting ?? VotingMode.Hard;
  const topK = options.topK ?? 5;
  if (crops.length === 0) return [];
  const logits = await memberLogits(set, crops, tta);
  return crops.map((_, i) =>
    vote(
      set.codes,
      logits.map((m) => m[i]!),
      voting,
      topK,
    ),
  );
}
