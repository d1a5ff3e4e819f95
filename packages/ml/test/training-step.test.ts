import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { readModelConfig } from '../src/config/model-config.js';
import { NonFiniteLossError } from '../src/errors.js';
import { createClassifier } from '../src/models/create-model.js';
import { readFlat } from '../src/train/host-memory.js';
import { Sgd } from '../src/train/sgd.js';
import { planStep } from '../src/train/step-plan.js';
import { runTrainingStep, type StepRunner } from '../src/train/training-step.js';
import { seeded, useWasm } from './helpers.js';

const configPath = fileURLToPath(new URL('../../../configs/models/tiny-resnet-gray32.json', import.meta.url));

describe('a training step', () => {
  before(useWasm);

  it('frees every tensor it makes, both when it updates and when the loss is not finite', async () => {
    const config = await readModelConfig(configPath);
    using model = createClassifier(config.model);
    const vars = model.params.trainable();
    const sgd = new Sgd(vars, { momentum: 0.9, weightDecay: 1e-4 });
    const paramCount = vars.reduce((s, v) => s + v.size, 0);
    const c = config.input.trainCrop;
    const k = config.model.numClasses;
    const n = 4;
    const runner: StepRunner = {
      model,
      vars,
      sgd,
      sampleShape: [c, c, 1],
      numClasses: k,
      reduction: 'mean',
      localBuffer: new Float32Array(paramCount),
      gradBuffer: new Float32Array(paramCount),
    };
    const targets = new Float32Array(n * k);
    for (let i = 0; i < n; i++) targets[i * k + i] = 1;
    const plan = (x: Float32Array, iter: number): ReturnType<typeof planStep> =>
      planStep({
        batch: { x, targets, n },
        lr: 0.1,
        shards: 1,
        sampleSize: c * c,
        numClasses: k,
        reduction: 'mean',
        epochSeed: 1,
        iter,
        buffer: 0,
      });

    // Arrange: the tensor count with the model and the optimizer built.
    const tensors = tf.memory().numTensors;
    const initial = (await readFlat(vars)).slice();

    // Act and assert: a good step updates the weights and leaves no tensor behind.
    const loss = await runTrainingStep(runner, plan(seeded(n * c * c, 3), 0), { epoch: 0, iter: 0 });
    assert.ok(Number.isFinite(loss) && loss > 0);
    assert.equal(tf.memory().numTensors, tensors);
    const updated = (await readFlat(vars)).slice();
    assert.notDeepEqual(updated, initial);

    // A NaN input throws before the update and still frees the step's tensors and BN updates.
    await assert.rejects(
      runTrainingStep(runner, plan(new Float32Array(n * c * c).fill(Number.NaN), 1), { epoch: 0, iter: 1 }),
      (err: unknown) => err instanceof NonFiniteLossError,
    );
    assert.equal(tf.memory().numTensors, tensors);
    assert.deepEqual((await readFlat(vars)).slice(), updated);
    sgd.dispose();
  });

  it('a classifier in a `using` block frees its weights when the block ends', async () => {
    const config = await readModelConfig(configPath);
    const before = tf.memory().numTensors;
    {
      using model = createClassifier(config.model);
      assert.ok(tf.memory().numTensors > before);
      assert.ok(model.params.entries.length > 0);
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
