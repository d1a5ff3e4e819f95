/**
 * lukemelas-style EfficientNet B0–B4 without its linear layer: stem 3×3/2 conv + BN + swish,
 * MBConv blocks (1×1 expansion, depthwise k×k, SE 0.25 of the block input with swish, 1×1
 * projection, drop-connect on identity skips), head 1×1 conv + BN *without* the final swish
 * (as the upstream l2softmax port), global average pooling. BN momentum 0.01 (PyTorch
 * convention), eps 1e-3. Padding is TF `same` on the actual feature-map size (the upstream port
 * computes it for a 190 px image at every layer, which matters only for loading its weights).
 */
import * as tf from '@tensorflow/tfjs';

import {
  batchNorm,
  type BuildContext,
  convBn,
  depthwiseConv,
  dropConnect,
  type Layer,
  sequential,
  squeezeExcite,
  swish,
} from '../../nn/layers.js';
import { type ArchitectureConfig } from '../types.js';
import {
  b0Stages,
  bnEps,
  bnMomentum,
  dropConnectRate,
  efficientNetCoefficients,
  headFilters,
  type StageArgs,
  stemFilters,
} from './constants.js';

/** lukemelas `round_filters`: scale by the width coefficient, round to a multiple of 8. */
export function roundFilters(filters: number, width: number): number {
  const scaled = filters * width;
  let rounded = Math.max(8, Math.floor((scaled + 4) / 8) * 8);
  if (rounded < 0.9 * scaled) rounded += 8;
  return rounded;
}

/** lukemelas `round_repeats`: ceil(depth × repeats). */
function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(depth * repeats);
}

const bn = { momentum: bnMomentum, eps: bnEps };

function mbConv(
  b: BuildContext,
  name: string,
  inCh: number,
  outCh: number,
  kernel: number,
  stride: number,
  expand: number,
  seRatio: number,
  dropRate: number,
): Layer {
  const mid = inCh * expand;
  const parts: Layer[] = [];
  if (expand !== 1) {
    parts.push(convBn(b, `${name}._expand_conv`, `${name}._bn0`, inCh, mid, 1, { pad: 0, bn }), swish);
  }
  parts.push(
    depthwiseConv(b, `${name}._depthwise_conv`, mid, kernel, { stride, pad: 'same' }),
    batchNorm(b, `${name}._bn1`, mid, bn),
    swish,
    squeezeExcite(b, name, mid, Math.max(1, Math.floor(inCh * seRatio)), 'swish', ['_se_reduce', '_se_expand']),
    convBn(b, `${name}._project_conv`, `${name}._bn2`, mid, outCh, 1, { pad: 0, bn }),
  );
  const main = sequential(...parts);
  if (stride !== 1 || inCh !== outCh) return main;
  const drop = dropConnect(dropRate);
  return (x, ctx) => tf.add(drop(main(x, ctx), ctx), x);
}

/** One MBConv block of an EfficientNet: its channels, stride and the stage it belongs to. */
export interface MbConvBlock {
  readonly inCh: number;
  readonly outCh: number;
  readonly stride: number;
  readonly stage: StageArgs;
}

function widthOf(config: ArchitectureConfig): number {
  const [w0] = efficientNetCoefficients[config.arch as keyof typeof efficientNetCoefficients];
  return w0 * (config.widthMultiplier ?? 1);
}

/**
 * The MBConv blocks of an EfficientNet variant in order: the B0 stages scaled by the variant's
 * width and depth coefficients (and the config's multipliers). The model builder and the ONNX
 * exporter both follow it, so they cannot drift apart.
 */
export function efficientNetBlocks(config: ArchitectureConfig): MbConvBlock[] {
  const [, d0] = efficientNetCoefficients[config.arch as keyof typeof efficientNetCoefficients];
  const width = widthOf(config);
  const depth = d0 * (config.depthMultiplier ?? 1);
  const plan: MbConvBlock[] = [];
  for (const stage of b0Stages) {
    const inCh = roundFilters(stage.inFilters, width);
    const outCh = roundFilters(stage.outFilters, width);
    const repeats = Math.max(1, roundRepeats(stage.repeats, depth));
    for (let i = 0; i < repeats; i++) {
      plan.push({ inCh: i === 0 ? inCh : outCh, outCh, stride: i === 0 ? stage.stride : 1, stage });
    }
  }
  return plan;
}

/** Builds an EfficientNet backbone. */
export function buildEfficientNet(b: BuildContext, config: ArchitectureConfig): { body: Layer; featureDim: number } {
  const width = widthOf(config);
  const stem = roundFilters(stemFilters, width);
  const layers: Layer[] = [
    convBn(b, '_conv_stem', '_bn0', config.inputChannels, stem, 3, { stride: 2, pad: 'same', bn }),
    swish,
  ];
  const plan = efficientNetBlocks(config);
  plan.forEach((p, idx) => {
    const rate = (dropConnectRate * idx) / plan.length;
    layers.push(
      mbConv(b, `_blocks.${idx}`, p.inCh, p.outCh, p.stage.kernel, p.stride, p.stage.expand, p.stage.seRatio, rate),
    );
  });
  const last = plan[plan.length - 1]!.outCh;
  const head = roundFilters(headFilters, width);
  layers.push(convBn(b, '_conv_head', '_bn1', last, head, 1, { pad: 0, bn }));
  return { body: sequential(...layers), featureDim: head };
}
