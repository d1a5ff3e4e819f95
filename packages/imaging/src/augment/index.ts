// Pixel augmentations for training (seeded): rotation, random resized crop, jitter, PCA lighting,
// RandomErasing, mixup / ICAP, and the seeded generator every training random draw comes from.
export { Rng } from './rng.js';

export type { RngState } from './rng.js';
