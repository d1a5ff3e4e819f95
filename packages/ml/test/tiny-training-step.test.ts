import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import { createRng } from '@kzr/core';

import { readModelConfig } from '../src/config/model-config.js';
import { createClassifier } from '../src/models/create-model.js';
import { applyBatchNormUpdates, type ForwardContext } from '../src/nn/layers.js';
import { softCrossEntropy } from '../src/train/losses.js';
import { seeded, useWasm } from './helpers.js';

// The tiny variants of the five upstream configurations (configs/models/README.md).
const configs = [
  'tiny-efficientnet-gray32',
  'tiny-resnet-gray32',
  'tiny-se-resnext-rgb32-mixup',
  'tiny-se-resnext-rgb32',
  'tiny-resnet-rgb32',
];

describe('tiny variants train on wasm', () => {
  before(useWasm);

  for (const name of configs) {
    it(`${name}: a training step gives a finite loss and a gradient for every parameter`, async () => {
      const config = await readModelConfig(
        fileURLToPath(new URL(`../../../configs/models/${name}.json`, import.meta.url)),
      );
      const model = createClassifier(config.model);
      const vars = model.params.trainable();
      const ch = config.model.inputChannels;
      const n = 4;
      const k = config.model.numClasses;
      const x = tf.tensor4d(seeded(n * 32 * 32 * ch, 9), [n, 32, 32, ch]);
      const targets = new Float32Array(n * k);
      for (let i = 0; i < n; i++) targets[i * k + i] = 1;
      const t = tf.tensor2d(targets, [n, k]);
      const ctx: ForwardContext = { training: true, updates: [], rng: createRng(1) };
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => softCrossEntropy(model.logits(x, ctx), t), vars);
      const loss = (await value.data())[0]!;
      assert.ok(Number.isFinite(loss) && loss > 0);
      for (const v of vars) {
        const g = grads[v.name];
        assert.ok(g, `no gradient for ${v.name}`);
        const values = await g.data();
        assert.ok(values.every(Number.isFinite), `non-finite gradient for ${v.name}`);
      }
      // Grouped and depthwise filters receive non-zero gradients through the composite kernels.
      const filters = model.params.entries.filter((e) => /conv2\.weight$|_depthwise_conv\.weight$/.test(e.name));
      assert.ok(filters.length > 0 || name.startsWith('tiny-resnet-'));
      for (const f of filters) {
        const values = await grads[f.variable.name]!.data();
        assert.ok(
          values.some((v) => v !== 0),
          `zero gradient for ${f.name}`,
        );
      }
      applyBatchNormUpdates(ctx);
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, t]);
      model.dispose();
    });
  }
});
