// Pixel augmentations for training (seeded): rotation, random resized crop, jitter, PCA lighting,
// RandomErasing, mixup / ICAP. Every random draw comes from `@kzr/core`'s seeded generator.
export { icap, mixup, noMixing, randomErasing } from './batch.js';
export {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  augmentSample,
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
export type { FloatImage, SampleAugmentParams } from './sample.js';
