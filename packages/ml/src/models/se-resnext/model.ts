/**
 * Cadene `pretrainedmodels` SE-ResNeXt 50/101 32x4d without its linear layer: stem
 * (7×7/2, BN, ReLU, ceil-mode 3×3/2 max-pool), SE-ResNeXt bottlenecks (1×1, grouped 3×3 carrying
 * the stride, 1×1, SE with reduction 16 and biased 1×1 convs), global average pooling.
 */
import * as tf from '@tensorflow/tfjs';

import {
  batchNorm,
  type BuildContext,
  convBn,
  groupedConv,
  type Layer,
  relu,
  sequential,
  squeezeExcite,
} from '../../nn/layers.js';
import { buildStem, downsample, scaledDepth, scaledWidth } from '../resnet/model.js';
import { stagePlanes } from '../resnet/constants.js';
import { type ArchitectureConfig } from '../types.js';
import { seReduction, seResNeXtBlocks } from './constants.js';

function block(
  b: BuildContext,
  name: string,
  inCh: number,
  planes: number,
  groups: number,
  baseWidth: number,
  stride: number,
): Layer {
  const width = Math.floor(planes * (baseWidth / 64)) * groups;
  if (width < groups) throw new Error(`${name}: width ${width} is below the ${groups} groups; raise baseWidth`);
  const out = planes * 4;
  const main = sequential(
    convBn(b, `${name}.conv1`, `${name}.bn1`, inCh, width, 1, { pad: 0, relu: true }),
    groupedConv(b, `${name}.conv2`, width, groups, 3, { stride }),
    batchNorm(b, `${name}.bn2`, width),
    relu,
    convBn(b, `${name}.conv3`, `${name}.bn3`, width, out, 1, { pad: 0 }),
    squeezeExcite(b, `${name}.se_module`, out, Math.max(1, Math.floor(out / seReduction)), 'relu'),
  );
  const shortcut = downsample(b, name, inCh, out, stride);
  return (x, ctx) => tf.relu(tf.add(main(x, ctx), shortcut ? shortcut(x, ctx) : x)) as tf.Tensor4D;
}

/** Builds an SE-ResNeXt backbone. */
export function buildSeResNeXt(b: BuildContext, config: ArchitectureConfig): { body: Layer; featureDim: number } {
  const blocks = seResNeXtBlocks[config.arch as keyof typeof seResNeXtBlocks];
  const wm = config.widthMultiplier ?? 1;
  const dm = config.depthMultiplier ?? 1;
  const groups = config.groups ?? 32;
  const baseWidth = config.baseWidth ?? 4;
  const stemWidth = scaledWidth(64, wm);
  const layers: Layer[] = [buildStem(b, config, stemWidth, { conv: 'layer0.conv1', bn: 'layer0.bn1' }, true)];
  let inCh = stemWidth;
  stagePlanes.forEach((p, stage) => {
    const planes = scaledWidth(p, wm);
    const count = scaledDepth(blocks[stage]!, dm);
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1;
      layers.push(block(b, `layer${stage + 1}.${i}`, inCh, planes, groups, baseWidth, stride));
      inCh = planes * 4;
    }
  });
  return { body: sequential(...layers), featureDim: inCh };
}
