// Pixel augmentations for training (seeded): rotation, random resized crop, jitter, PCA lighting,
// RandomErasing, mixup / ICAP, and the seeded generator every training random draw comes from.
export { icap, mixup, noMixing, randomErasing } from './batch.js';
export { Rng } from './rng.js';
export {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  augmentSample,
  centerCropSample,
  colorJitter,
  cropResize,
  normalizeInPlace,
  pcaLighting,
  randomResizedCropBox,
  refinementSample,
  rotateBicubic,
  toChannels,
  toFloat,
} from './sample.js';

export type { BatchMixing } from './batch.js';
export type { RngState } from './rng.js';
export type { FloatImage, SampleAugmentParams } from './sample.js';
