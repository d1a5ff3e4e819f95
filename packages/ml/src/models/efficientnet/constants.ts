/** One MBConv stage of EfficientNet-B0 (lukemelas `efficientnet_pytorch` block strings). */
export interface StageArgs {
  readonly repeats: number;
  readonly kernel: number;
  readonly stride: number;
  readonly expand: number;
  readonly inFilters: number;
  readonly outFilters: number;
  readonly seRatio: number;
}

/** EfficientNet-B0 stages: r1_k3_s11_e1_i32_o16_se0.25 … r1_k3_s11_e6_i192_o320_se0.25. */
export const b0Stages: readonly StageArgs[] = [
  { repeats: 1, kernel: 3, stride: 1, expand: 1, inFilters: 32, outFilters: 16, seRatio: 0.25 },
  { repeats: 2, kernel: 3, stride: 2, expand: 6, inFilters: 16, outFilters: 24, seRatio: 0.25 },
  { repeats: 2, kernel: 5, stride: 2, expand: 6, inFilters: 24, outFilters: 40, seRatio: 0.25 },
  { repeats: 3, kernel: 3, stride: 2, expand: 6, inFilters: 40, outFilters: 80, seRatio: 0.25 },
  { repeats: 3, kernel: 5, stride: 1, expand: 6, inFilters: 80, outFilters: 112, seRatio: 0.25 },
  { repeats: 4, kernel: 5, stride: 2, expand: 6, inFilters: 112, outFilters: 192, seRatio: 0.25 },
  { repeats: 1, kernel: 3, stride: 1, expand: 6, inFilters: 192, outFilters: 320, seRatio: 0.25 },
];

/** (width, depth) coefficients per variant. */
export const efficientNetCoefficients = {
  'efficientnet-b0': [1.0, 1.0],
  'efficientnet-b1': [1.0, 1.1],
  'efficientnet-b2': [1.1, 1.2],
  'efficientnet-b3': [1.2, 1.4],
  'efficientnet-b4': [1.4, 1.8],
} as const;

/** Global drop-connect rate, scaled by block index / block count. */
export const dropConnectRate = 0.2;
/** BN momentum in PyTorch convention (TF 0.99) and epsilon, as in the upstream port. */
export const bnMomentum = 0.01;
export const bnEps = 1e-3;
/** Stem and head widths of B0 before rounding. */
export const stemFilters = 32;
export const headFilters = 1280;
