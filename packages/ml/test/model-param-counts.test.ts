import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { countParams, createClassifier } from '../src/models/create-model.js';
import { type Arch } from '../src/models/types.js';

// Backbone parameter counts (3-channel stem, classifier excluded) of the reference
// implementations: torchvision ResNet, Cadene SE-ResNeXt, lukemelas EfficientNet.
const references: Array<[Arch, number]> = [
  ['resnet152', 58_143_808],
  ['se_resnext101_32x4d', 46_906_416],
  ['efficientnet-b4', 17_548_616],
  ['resnet18', 11_176_512],
  ['efficientnet-b0', 4_007_548],
];

describe('model zoo parameter counts', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  for (const [arch, expected] of references) {
    it(`${arch} has the reference backbone parameter count ${expected}`, () => {
      const model = createClassifier({ arch, inputChannels: 3, numClasses: 4212 });
      try {
        const counts = countParams(model);
        assert.equal(counts.backboneParams, expected);
        assert.equal(counts.headParams, model.featureDim * 4212);
        assert.equal(counts.totalParams, expected + model.featureDim * 4212);
      } finally {
        model.dispose();
      }
    });
  }

  it('stores grouped convolutions as exactly [3, 3, C/32, C]', () => {
    const model = createClassifier({
      arch: 'se_resnext50_32x4d',
      inputChannels: 3,
      numClasses: 10,
      depthMultiplier: 0.1,
    });
    try {
      assert.deepEqual(model.params.get('layer1.0.conv2.weight')!.variable.shape, [3, 3, 4, 128]);
      assert.deepEqual(model.params.get('layer4.0.conv2.weight')!.variable.shape, [3, 3, 32, 1024]);
    } finally {
      model.dispose();
    }
  });

  it('builds a 1-channel stem for grayscale models', () => {
    const gray = createClassifier({ arch: 'resnet152', inputChannels: 1, numClasses: 10, depthMultiplier: 0.1 });
    const eff = createClassifier({ arch: 'efficientnet-b4', inputChannels: 1, numClasses: 10, depthMultiplier: 0.1 });
    try {
      assert.deepEqual(gray.params.get('conv1.weight')!.variable.shape, [7, 7, 1, 64]);
      assert.deepEqual(eff.params.get('_conv_stem.weight')!.variable.shape, [3, 3, 1, 48]);
    } finally {
      gray.dispose();
      eff.dispose();
    }
  });

  it('rejects an unknown architecture naming the field', () => {
    assert.throws(
      () => createClassifier({ arch: 'vgg16' as Arch, inputChannels: 3, numClasses: 10 }),
      (err: Error & { field?: string }) => err.field === 'config.arch',
    );
  });
});
