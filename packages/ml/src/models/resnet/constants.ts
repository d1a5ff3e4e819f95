/** Blocks per stage of the torchvision ResNets, and whether they use bottleneck blocks. */
export const resnetLayout = {
  resnet18: { blocks: [2, 2, 2, 2], bottleneck: false },
  resnet34: { blocks: [3, 4, 6, 3], bottleneck: false },
  resnet50: { blocks: [3, 4, 6, 3], bottleneck: true },
  resnet101: { blocks: [3, 4, 23, 3], bottleneck: true },
  resnet152: { blocks: [3, 8, 36, 3], bottleneck: true },
} as const;

/** Stage widths ("planes") of ResNet and SE-ResNeXt before the width multiplier. */
export const stagePlanes = [64, 128, 256, 512] as const;
