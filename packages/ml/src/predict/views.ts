/**
 * The one preprocessing of a crop into model inputs, per view (spec §5.3): channels (grayscale
 * first for 1-channel models), bicubic resize to S×S, the view geometry of `@kzr/imaging` (the
 * centre C×C crop, or the seven TTA crops), then [0, 1] floats normalised with the model's mean
 * and std. Training validation, `kzr predict` and the inference service (tfjs and ONNX engines)
 * all build their inputs here, so a crop is the same tensor wherever it is classified.
 */
import { meanLogits } from '@kzr/core';
import { resizeBicubic, ttaCentreCrop, ttaSevenCrop, type RawImage } from '@kzr/imaging';
import { normalizeInPlace, toChannels, toFloat } from '@kzr/imaging/augment';

import { type ModelConfig } from '../config/model-config.js';
import { MlValidationError } from '../errors.js';

/** Which views of a crop are classified: the centre crop alone, or the 7-crop TTA. */
export const View = { Centre: 'centre', Tta: 'tta' } as const;
/** One of {@link View}. */
export type View = (typeof View)[keyof typeof View];

/** Number of TTA views per crop (four corners, centre, semi-full, full). */
export const ttaViewCount = 7;

/** The input side of a model: channels, S (scale), C (crop), normalisation. */
export interface ViewInput {
  readonly channels: 1 | 3;
  readonly scaleSize: number;
  readonly cropSize: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Parses a `--view` style value. */
export function parseView(value: string, field = 'view'): View {
  if (value === View.Centre || value === View.Tta) return value;
  throw new MlValidationError(field, `expected "centre" or "tta", got ${JSON.stringify(value)}`);
}

/** Views per crop of `view`. */
export function viewsPerCrop(view: View): number {
  return view === View.Tta ? ttaViewCount : 1;
}

/**
 * The served input of a model config: the inference geometry (`inferResize` / `inferCrop`).
 * Validation uses it too, so the figure training reports is the one the model serves.
 */
export function viewInput(config: ModelConfig): ViewInput {
  return {
    channels: config.model.inputChannels,
    scaleSize: config.input.inferResize,
    cropSize: config.input.inferCrop,
    mean: config.input.mean,
    std: config.input.std,
  };
}

/** The view images of one crop (C×C, the model's channels), in {@link ttaSevenCrop} order for TTA. */
export function viewImages(crop: RawImage, input: ViewInput, view: View): RawImage[] {
  const scaled = resizeBicubic(toChannels(crop, input.channels), input.scaleSize, input.scaleSize);
  return view === View.Tta ? ttaSevenCrop(scaled, input.cropSize) : [ttaCentreCrop(scaled, input.cropSize)];
}

/** The normalised NHWC inputs of `crops`, crop-major: [crops × views, C, C, channels]. */
export function viewInputs(crops: readonly RawImage[], input: ViewInput, view: View): Float32Array {
  const size = input.cropSize * input.cropSize * input.channels;
  // One mean / std value stands for every channel (as a manifest may give it).
  const perChannel = (v: readonly number[]): readonly number[] =>
    v.length === 1 ? new Array<number>(input.channels).fill(v[0]!) : v;
  const mean = perChannel(input.mean);
  const std = perChannel(input.std);
  const out = new Float32Array(crops.length * viewsPerCrop(view) * size);
  let at = 0;
  for (const crop of crops) {
    for (const image of viewImages(crop, input, view)) {
      const f = toFloat(image);
      normalizeInPlace(f, mean, std);
      out.set(f.data, at);
      at += size;
    }
  }
  return out;
}

/** Each crop's mean of its views' logits (core's `meanLogits`): [crops × views, K] in, [crops, K] out. */
export function meanOverViews(logits: Float32Array, crops: number, view: View, classes: number): Float32Array {
  const views = viewsPerCrop(view);
  if (views === 1) return logits;
  const out = new Float32Array(crops * classes);
  for (let i = 0; i < crops; i++) {
    const rows = Array.from({ length: views }, (_, v) =>
      logits.subarray((i * views + v) * classes, (i * views + v + 1) * classes),
    );
    out.set(meanLogits(rows), i * classes);
  }
  return out;
}
