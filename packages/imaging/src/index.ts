// Pixels with sharp and typed arrays: decode, Ben's filter, denoising, padded crops, square resize, grayscale, TTA views, pixel augmentations.
// Its public surface arrives with the issue that builds it.
export {};
