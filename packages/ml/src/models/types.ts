/**
 * The architecture part of a model configuration (configs/models/README.md describes the whole
 * file) and the built classifier's interface.
 */
import type * as tf from '@tensorflow/tfjs';

import type { ForwardContext } from '../nn/layers.js';
import type { ParamSet } from '../nn/params.js';

/** Architectures of the model zoo. */
export const Arch = {
  ResNet18: 'resnet18',
  ResNet34: 'resnet34',
  ResNet50: 'resnet50',
  ResNet101: 'resnet101',
  ResNet152: 'resnet152',
  SeResNeXt50: 'se_resnext50_32x4d',
  SeResNeXt101: 'se_resnext101_32x4d',
  EfficientNetB0: 'efficientnet-b0',
  EfficientNetB1: 'efficientnet-b1',
  EfficientNetB2: 'efficientnet-b2',
  EfficientNetB3: 'efficientnet-b3',
  EfficientNetB4: 'efficientnet-b4',
} as const;
export type Arch = (typeof Arch)[keyof typeof Arch];

/** Stem of the ResNet-family backbones. */
export const Stem = {
  /** 7×7/2 conv, BN, ReLU, 3×3/2 max-pool (the reference models). */
  ImageNet: 'imagenet',
  /** 3×3/1 conv, BN, ReLU, no pooling: for tiny CPU variants on 28–32 px inputs. */
  Compact: 'compact',
} as const;
export type Stem = (typeof Stem)[keyof typeof Stem];

/** What to build. */
export interface ArchitectureConfig {
  readonly arch: Arch;
  /** Input channels: 1 (grayscale models) or 3. */
  readonly inputChannels: 1 | 3;
  /** Number of classes of the cosine head. */
  readonly numClasses: number;
  /** Channel multiplier for tiny variants. @default 1 */
  readonly widthMultiplier?: number;
  /** Block-count multiplier for tiny variants (each stage keeps at least one block). @default 1 */
  readonly depthMultiplier?: number;
  /** ResNet / SE-ResNeXt stem. @default 'imagenet' */
  readonly stem?: Stem;
  /** SE-ResNeXt cardinality. @default 32 */
  readonly groups?: number;
  /** SE-ResNeXt width per group at the first stage. @default 4 */
  readonly baseWidth?: number;
  /** Cosine head scale α = 1/T. @default 20 */
  readonly headScale?: number;
  /** Seed of the initial weights. @default 0 */
  readonly initSeed?: number;
}

/**
 * A built classifier: backbone, global average pooling, cosine head. It owns its weights:
 * `dispose()` (or leaving a `using` block) frees them.
 */
export interface Classifier extends Disposable {
  readonly config: ArchitectureConfig;
  /** Every variable; the head's names start with `head.`. */
  readonly params: ParamSet;
  /** Length of the pooled feature vector. */
  readonly featureDim: number;
  /** Pooled backbone features [N, D]. */
  features(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
  /** Cosine logits [N, numClasses]. */
  logits(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
  /** Frees every variable; a second call does nothing. */
  dispose(): void;
  /** The same as {@link Classifier.dispose}, for `using`. */
  [Symbol.dispose](): void;
}

/** Trainable-parameter counts of a built classifier. */
export interface ParamCounts {
  readonly backboneParams: number;
  readonly headParams: number;
  readonly totalParams: number;
}
