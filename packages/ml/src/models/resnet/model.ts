/**
 * torchvision ResNet 18/34/50/101/152 (v1.5: the stride sits on the 3×3 conv of a bottleneck),
 * without its linear layer: stem, four stages, global average pooling. Convolutions have no
 * bias; BN is PyTorch's (momentum 0.1, eps 1e-5); padding is PyTorch's symmetric padding.
 */
import * as tf from '@tensorflow/tfjs';

import { type BuildContext, convBn, type Layer, sequential } from '../../nn/layers.js';
import { type ArchitectureConfig } from '../types.js';
import { resnetLayout, stagePlanes } from './constants.js';

/** Scales a channel count by the width multiplier (at least 4). */
export function scaledWidth(channels: number, multiplier: number): number {
  return Math.max(4, Math.round(channels * multiplier));
}

/** Scales a block count by the depth multiplier (at least 1). */
export function scaledDepth(blocks: number, multiplier: number): number {
  return Math.max(1, Math.round(blocks * multiplier));
}

/**
 * The ResNet-family stem. `imagenet`: 7×7/2 conv, BN, ReLU, 3×3/2 max-pool, where `ceilPool`
 * selects Cadene's `MaxPool2d(3, 2, ceil_mode=True)` (no padding) instead of torchvision's
 * padding 1. `compact`: 3×3/1 conv, BN, ReLU.
 */
export function buildStem(
  b: BuildContext,
  config: ArchitectureConfig,
  width: number,
  names: { conv: string; bn: string },
  ceilPool: boolean,
): Layer {
  if ((config.stem ?? 'imagenet') === 'compact') {
    return convBn(b, names.conv, names.bn, config.inputChannels, width, 3, { pad: 1, relu: true });
  }
  const pool: Layer = ceilPool
    ? (x) => {
        // ceil_mode: pad the bottom / right so the last partial window is kept (inputs are
        // post-ReLU, so zero padding never wins the max over a window with a real value).
        const [, h, w] = x.shape;
        const outH = Math.ceil((h - 3) / 2) + 1;
        const outW = Math.ceil((w - 3) / 2) + 1;
        const padded = tf.pad(x, [
          [0, 0],
          [0, (outH - 1) * 2 + 3 - h],
          [0, (outW - 1) * 2 + 3 - w],
          [0, 0],
        ]);
        return tf.maxPool(padded, 3, 2, 'valid');
      }
    : (x) => tf.maxPool(x, 3, 2, 1);
  return sequential(
    convBn(b, names.conv, names.bn, config.inputChannels, width, 7, { stride: 2, pad: 3, relu: true }),
    pool,
  );
}

function basicBlock(b: BuildContext, name: string, inCh: number, planes: number, stride: number): Layer {
  const main = sequential(
    convBn(b, `${name}.conv1`, `${name}.bn1`, inCh, planes, 3, { stride, relu: true }),
    convBn(b, `${name}.conv2`, `${name}.bn2`, planes, planes, 3),
  );
  const shortcut = downsample(b, name, inCh, planes, stride);
  return (x, ctx) => tf.relu(tf.add(main(x, ctx), shortcut ? shortcut(x, ctx) : x)) as tf.Tensor4D;
}

function bottleneck(b: BuildContext, name: string, inCh: number, planes: number, stride: number): Layer {
  const out = planes * 4;
  const main = sequential(
    convBn(b, `${name}.conv1`, `${name}.bn1`, inCh, planes, 1, { pad: 0, relu: true }),
    convBn(b, `${name}.conv2`, `${name}.bn2`, planes, planes, 3, { stride, relu: true }),
    convBn(b, `${name}.conv3`, `${name}.bn3`, planes, out, 1, { pad: 0 }),
  );
  const shortcut = downsample(b, name, inCh, out, stride);
  return (x, ctx) => tf.relu(tf.add(main(x, ctx), shortcut ? shortcut(x, ctx) : x)) as tf.Tensor4D;
}

/** The 1×1 projection shortcut when the shape changes, else undefined. */
export function downsample(
  b: BuildContext,
  name: string,
  inCh: number,
  outCh: number,
  stride: number,
): Layer | undefined {
  if (stride === 1 && inCh === outCh) return undefined;
  return convBn(b, `${name}.downsample.0`, `${name}.downsample.1`, inCh, outCh, 1, { stride, pad: 0 });
}

/** Builds a ResNet backbone; returns the layer (to pooled-ready feature maps) and its output width. */
export function buildResNet(b: BuildContext, config: ArchitectureConfig): { body: Layer; featureDim: number } {
  const layout = resnetLayout[config.arch as keyof typeof resnetLayout];
  const wm = config.widthMultiplier ?? 1;
  const dm = config.depthMultiplier ?? 1;
  const stemWidth = scaledWidth(64, wm);
  const layers: Layer[] = [buildStem(b, config, stemWidth, { conv: 'conv1', bn: 'bn1' }, false)];
  let inCh = stemWidth;
  stagePlanes.forEach((p, stage) => {
    const planes = scaledWidth(p, wm);
    const count = scaledDepth(layout.blocks[stage]!, dm);
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1;
      const name = `layer${stage + 1}.${i}`;
      layers.push(
        layout.bottleneck ? bottleneck(b, name, inCh, planes, stride) : basicBlock(b, name, inCh, planes, stride),
      );
      inCh = layout.bottleneck ? planes * 4 : planes;
    }
  });
  return { body: sequential(...layers), featureDim: inCh };
}
