/**
 * Classifying crops with a loaded model set (spec §5.3–§5.4): per member, the crop becomes its
 * seven TTA views (or the centre view without TTA), normalised with the member's mean / std; the
 * member's logits for the crop are the mean of its views' logits; the members are then combined
 * by hard voting with probability or by soft voting (sum of logits, softmax), per request.
 * Every member's rows go through its dynamic batcher, so concurrent requests share batches.
 */
import { hardVote, meanLogits, softmaxFloat32, softVote } from '@kzr/core';
import {
  cropRaw,
  type RawImage,
  resizeBicubic,
  toGrayscale,
  toRgb,
  ttaViews,
  ttaViewSpecs,
  TtaView,
} from '@kzr/imaging';
import { type InputSpec, VotingMode } from '@kzr/artifacts';

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

/** Number of views per crop. */
export function viewsPerCrop(tta: boolean): number {
  return tta ? 7 : 1;
}

function viewImages(crop: RawImage, spec: InputSpec, tta: boolean): RawImage[] {
  let image = crop;
  if (spec.channels === 3 && image.channels === 1) image = toRgb(image);
  if (tta) return ttaViews(image, { scaleSize: spec.scaleSize, cropSize: spec.cropSize, channels: spec.channels });
  if (spec.channels === 1 && image.channels === 3) image = toGrayscale(image);
  const scaled = resizeBicubic(image, spec.scaleSize, spec.scaleSize);
  const centre = ttaViewSpecs(spec.scaleSize, spec.cropSize).find((v) => v.view === TtaView.Center)!;
  return [spec.scaleSize === spec.cropSize ? scaled : cropRaw(scaled, centre.box)];
}

/** Builds the normalised NHWC rows of `crops` for one input spec. */
export function buildRows(crops: readonly RawImage[], spec: InputSpec, tta: boolean): Float32Array {
  const side = spec.cropSize;
  const ch = spec.channels;
  const perView = side * side * ch;
  const views = viewsPerCrop(tta);
  const out = new Float32Array(crops.length * views * perView);
  const scale = new Float32Array(ch);
  const shift = new Float32Array(ch);
  for (let c = 0; c < ch; c++) {
    const mean = spec.mean[spec.mean.length === 1 ? 0 : c]!;
    const std = spec.std[spec.std.length === 1 ? 0 : c]!;
    scale[c] = 1 / (255 * std);
    shift[c] = -mean / std;
  }
  let at = 0;
  for (const crop of crops) {
    for (const view of viewImages(crop, spec, tta)) {
      const d = view.data;
      for (let i = 0; i < perView; i++) {
        const c = i % ch;
        out[at + i] = d[i]! * scale[c]! + shift[c]!;
      }
      at += perView;
    }
  }
  return out;
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
  const views = viewsPerCrop(tta);
  const rowsBySpec = new Map<string, Float32Array>();
  for (const m of set.members) {
    const key = specKey(m.input);
    if (!rowsBySpec.has(key)) rowsBySpec.set(key, buildRows(crops, m.input, tta));
  }
  const k = set.codes.length;
  return Promise.all(
    set.members.map(async (m) => {
      const logits = await m.batcher.submit(rowsBySpec.get(specKey(m.input))!, crops.length * views);
      return crops.map((_, i) => {
        const rows: Float32Array[] = [];
        for (let v = 0; v < views; v++) rows.push(logits.subarray((i * views + v) * k, (i * views + v + 1) * k));
        return meanLogits(rows);
      });
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
