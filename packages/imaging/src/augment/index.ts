// Pixel augmentations for training (seeded): rotation, random resized crop, jitter, PCA lighting, RandomErasing, mixup/ICAP helpers.
// Its public surface arrives with the issue that builds it.
export {};
