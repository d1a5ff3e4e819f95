/**
 * Turning crops into model inputs: the augmented training batch of one iteration (per-sample
 * pipeline, then the per-batch mixing and erasing) and the centre-crop validation inputs. Every
 * random draw derives from the epoch seed and the sample's position, so a batch is a pure
 * function of (epoch seed, iteration) whichever thread or process builds it.
 */
import { createRng, deriveSeed } from '@kzr/core';
import {
  augmentSample,
  icap,
  mixup,
  noMixing,
  randomErasing,
  refinementSample,
  type BatchMixing,
  type SampleAugmentParams,
} from '@kzr/imaging/augment';

import { type ModelConfig } from '../config/model-config.js';
import { type LabelledCrop } from './dataset.js';
import { mixedTargets, refinementTargets } from './targets.js';

/** Random streams of an epoch, by purpose: the label {@link deriveSeed} mixes into the epoch seed. */
export const Stream = { Sample: 'sample', Batch: 'batch', DropConnect: 'drop-connect' } as const;

/** A prepared batch: inputs [N, C, C, ch] as floats, soft targets [N, K]. */
export interface PreparedBatch {
  readonly x: Float32Array;
  readonly targets: Float32Array;
  readonly n: number;
  readonly mixing: BatchMixing;
}

/** The per-sample augmentation parameters of a config. */
export function sampleParams(config: ModelConfig): SampleAugmentParams {
  const a = config.augment;
  return {
    channels: config.model.inputChannels,
    resize: config.input.trainResize,
    crop: config.input.trainCrop,
    rotationDeg: a.rotationDeg,
    cropScale: a.cropScale,
    cropRatio: a.cropRatio,
    grayscaleProb: a.grayscaleProb,
    brightness: a.brightness,
    contrast: a.contrast,
    saturation: a.saturation,
    hue: a.hue,
    pcaStd: a.pcaStd,
    mean: config.input.mean,
    std: config.input.std,
    erasingProb: a.sampleErasing ? a.erasingProb : 0,
  };
}

/** Builds training batch `iter` of an epoch from the crops at `indices`. */
export function prepareTrainBatch(
  config: ModelConfig,
  crops: readonly LabelledCrop[],
  labels: readonly number[],
  numClasses: number,
  indices: ArrayLike<number>,
  epochSeed: number,
  iter: number,
  refine = false,
): PreparedBatch {
  const n = indices.length;
  const c = config.input.trainCrop;
  const ch = config.model.inputChannels;
  const size = c * c * ch;
  const x = new Float32Array(n * size);
  const params = sampleParams(config);
  const y = new Int32Array(n);
  const pseudo = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    const idx = indices[j]!;
    const rng = createRng(deriveSeed(epochSeed, Stream.Sample, iter * n + j));
    const crop = crops[idx]!;
    const img = refine ? refinementSample(crop.image, params, rng) : augmentSample(crop.image, params, rng);
    x.set(img.data, j * size);
    y[j] = labels[idx]!;
    pseudo[j] = crop.pseudo ? 1 : 0;
  }
  if (refine) return { x, n, targets: refinementTargets(y, numClasses, pseudo), mixing: noMixing(n) };
  const rng = createRng(deriveSeed(epochSeed, Stream.Batch, iter));
  const a = config.augment;
  let mixing = noMixing(n);
  if (a.batchMix === 'mixup') mixing = mixup(x, n, a.mixupAlpha, rng);
  else if (a.batchMix === 'icap') mixing = icap(x, n, c, c, ch, a.icapBeta, a.icapProb, rng);
  if (a.batchMix !== 'none' && a.erasingProb > 0) randomErasing(x, n, c, c, ch, a.erasingProb, rng);
  return { x, n, targets: mixedTargets(y, numClasses, mixing.weights, mixing.perms), mixing };
}
