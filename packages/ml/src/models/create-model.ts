/**
 * The model factory: validates an {@link ArchitectureConfig}, builds the backbone of its family,
 * global average pooling and the cosine head. Unknown architectures throw.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '@kzr/core';

import { MlValidationError } from '../errors.js';
import { type BuildContext, type ForwardContext } from '../nn/layers.js';
import { ParamSet } from '../nn/params.js';
import { buildEfficientNet } from './efficientnet/model.js';
import { buildCosineHead, defaultHeadScale } from './head.js';
import { buildResNet } from './resnet/model.js';
import { buildSeResNeXt } from './se-resnext/model.js';
import { Arch, type ArchitectureConfig, type Classifier, type ParamCounts } from './types.js';
import { validateArchitecture } from './validate-architecture.js';

function buildBackbone(b: BuildContext, config: ArchitectureConfig): ReturnType<typeof buildResNet> {
  switch (config.arch) {
    case Arch.ResNet18:
    case Arch.ResNet34:
    case Arch.ResNet50:
    case Arch.ResNet101:
    case Arch.ResNet152:
      return buildResNet(b, config);
    case Arch.SeResNeXt50:
    case Arch.SeResNeXt101:
      return buildSeResNeXt(b, config);
    case Arch.EfficientNetB0:
    case Arch.EfficientNetB1:
    case Arch.EfficientNetB2:
    case Arch.EfficientNetB3:
    case Arch.EfficientNetB4:
      return buildEfficientNet(b, config);
    default:
      throw new MlValidationError('config.arch', `unknown architecture "${String(config.arch)}"`);
  }
}

/** Builds a classifier with weights drawn from `config.initSeed`. */
export function createClassifier(config: ArchitectureConfig): Classifier {
  validateArchitecture(config);
  const params = new ParamSet();
  const b: BuildContext = { params, rng: createRng(config.initSeed ?? 0) };
  try {
    const { body, featureDim } = buildBackbone(b, config);
    const head = buildCosineHead(b, featureDim, config.numClasses, config.headScale ?? defaultHeadScale);
    const features = (x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D => tf.mean(body(x, ctx), [1, 2]) as tf.Tensor2D;
    return {
      config,
      params,
      featureDim,
      features,
      logits: (x, ctx) => head(features(x, ctx)),
      dispose: () => params.dispose(),
      [Symbol.dispose]: () => params.dispose(),
    };
  } catch (err) {
    params.dispose();
    throw err;
  }
}

/** Trainable-parameter counts; the backbone excludes the `head.` variables. */
export function countParams(model: Classifier): ParamCounts {
  const totalParams = model.params.countTrainable();
  const headParams = model.params.countTrainable('head.');
  return { backboneParams: totalParams - headParams, headParams, totalParams };
}
