/** Blocks per stage of Cadene's SE-ResNeXt 32x4d models. */
export const seResNeXtBlocks = {
  se_resnext50_32x4d: [3, 4, 6, 3],
  se_resnext101_32x4d: [3, 4, 23, 3],
} as const;

/** SE reduction ratio of the SE-ResNeXt bottleneck. */
export const seReduction = 16;
