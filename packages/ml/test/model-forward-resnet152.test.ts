import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { createClassifier } from '../src/models/create-model.js';
import { seeded, useWasm } from './helpers.js';

describe('full-size resnet152', () => {
  before(useWasm);

  it('builds and runs a forward pass at batch 1 on a 112 px input', async () => {
    const before = tf.memory().numTensors;
    const model = createClassifier({ arch: 'resnet152', inputChannels: 3, numClasses: 4212 });
    const x = tf.tensor4d(seeded(112 * 112 * 3, 1), [1, 112, 112, 3]);
    const logits = tf.tidy(() => model.logits(x, { training: false, updates: [] }));
    const values = await logits.data();
    assert.deepEqual(logits.shape, [1, 4212]);
    // Cosine logits lie in [-20, 20] and are not all equal.
    assert.ok(values.every((v) => Number.isFinite(v) && Math.abs(v) <= 20 + 1e-4));
    assert.ok(Math.max(...values) - Math.min(...values) > 1e-3);
    tf.dispose([x, logits]);
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
