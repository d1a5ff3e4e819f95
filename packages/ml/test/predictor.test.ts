import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import { type RawImage, resizeBicubic, toGrayscale, ttaSevenCrop } from '@kzr/imaging';

import { parseModelConfig } from '../src/config/model-config.js';
import { createClassifier } from '../src/models/create-model.js';
import { Predictor } from '../src/predict/predictor.js';
import { meanOverViews, parseView, View, viewInputs } from '../src/predict/views.js';
import { writeCheckpoint } from '../src/train/checkpoint.js';
import { directoryStorage } from '../src/train/storage.js';
import { useWasm } from './helpers.js';

const config = parseModelConfig({
  model: {
    arch: 'resnet18',
    inputChannels: 1,
    numClasses: 4,
    stem: 'compact',
    widthMultiplier: 0.125,
    depthMultiplier: 0.5,
    initSeed: 3,
  },
  input: { trainResize: 20, trainCrop: 16, inferResize: 20, inferCrop: 16, mean: [0.5], std: [0.25] },
});
const classes = ['U+3042', 'U+3044', 'U+3046', 'U+3048'];

function crop(seed: number, w: number, h: number, channels: 1 | 3): RawImage {
  const data = new Uint8Array(w * h * channels);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width: w, height: h, channels, data };
}

describe('Predictor (TTA 7-crop)', () => {
  let dir: string;
  let predictor: Predictor;

  before(async () => {
    await useWasm();
    dir = await mkdtemp(join(tmpdir(), 'kzr-predictor-'));
    const model = createClassifier(config.model);
    const slots = model.params.trainable();
    await writeCheckpoint(directoryStorage(dir), 'best', model.params, slots, {
      epoch: 1,
      iteration: 1,
      itersPerEpoch: 1,
      rng: { order: { words: [1, 2, 3, 4] } },
      best: { epoch: 1, valTop1: 0 },
      classes,
      config,
      history: [],
    });
    model.dispose();
    predictor = await Predictor.load(directoryStorage(dir), 'best');
  });

  after(async () => {
    predictor.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns softmax of the mean of the seven view logits, with the top-5 labels', async () => {
    const crops = [crop(1, 23, 31, 3), crop(2, 40, 18, 1), crop(3, 16, 16, 3)];
    const results = await predictor.predict(crops, { batchSize: 2 });
    assert.equal(results.length, 3);
    // Reference: run the model on each crop's seven views separately and average.
    const reference = createClassifier(config.model);
    for (const [i, c] of crops.entries()) {
      const views = viewInputs([c], predictor.input, View.Tta);
      const mean = tf.tidy(() => {
        const logits = reference.logits(tf.tensor4d(views, [7, 16, 16, 1]), { training: false, updates: [] });
        return tf.mean(logits, 0);
      });
      const expected = await mean.data();
      mean.dispose();
      const r = results[i]!;
      for (let k = 0; k < 4; k++) assert.ok(Math.abs(r.logits[k]! - expected[k]!) < 1e-4);
      const max = Math.max(...expected);
      const z = [...expected].reduce((s, v) => s + Math.exp(v - max), 0);
      const best = [...expected].indexOf(max);
      assert.equal(r.label, classes[best]);
      assert.ok(Math.abs(r.probability - 1 / z) < 1e-5);
      assert.equal(r.top.length, 4);
      assert.ok(r.top.every((t, j) => j === 0 || t.probability <= r.top[j - 1]!.probability));
    }
    reference.dispose();
  });

  it('leaks no tensors across predictions', async () => {
    const crops = [crop(4, 30, 30, 3), crop(5, 12, 25, 3)];
    await predictor.predict(crops);
    const before = tf.memory().numTensors;
    await predictor.predict(crops);
    await predictor.predict(crops, { batchSize: 1 });
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('views', () => {
  const input = { channels: 1, scaleSize: 20, cropSize: 16, mean: [0.5], std: [0.25] } as const;

  it('makes the centre view the TTA centre (view 5 of 7): grayscale, resize S, crop C, normalise', () => {
    const c = crop(7, 23, 31, 3);
    const centre = viewInputs([c], input, View.Centre);
    const tta = viewInputs([c], input, View.Tta);
    assert.equal(centre.length, 16 * 16);
    assert.equal(tta.length, 7 * 16 * 16);
    assert.deepEqual(centre, tta.subarray(4 * 256, 5 * 256));
    const expected = ttaSevenCrop(resizeBicubic(toGrayscale(c), 20, 20), 16)[4]!;
    assert.deepEqual(
      Array.from(centre),
      Array.from(expected.data, (v) => Math.fround((Math.fround(v / 255) - 0.5) / 0.25)),
    );
  });

  it('averages the view logits of each crop and names a bad view value', () => {
    const logits = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    assert.deepEqual(Array.from(meanOverViews(logits, 1, View.Tta, 2)), [7, 8]);
    assert.equal(meanOverViews(logits, 7, View.Centre, 2), logits);
    assert.throws(() => parseView('center', '--view'), /--view.*"centre" or "tta"/);
  });
});
