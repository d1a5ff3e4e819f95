import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import { createRng } from '@kzr/core';

import { buildCosineHead } from '../src/models/head.js';
import {
  applyBatchNormUpdates,
  batchNorm,
  convBn,
  type ForwardContext,
  groupedConv,
  trainingBatchNorm,
} from '../src/nn/layers.js';
import { ParamSet } from '../src/nn/params.js';
import { seeded, useWasm } from './helpers.js';

function ctx(training: boolean): ForwardContext {
  return { training, updates: [], rng: createRng(1) };
}

describe('layers', () => {
  before(useWasm);

  it('grouped convolution equals one convolution per group, and its gradient matches the split form', async () => {
    const params = new ParamSet();
    const layer = groupedConv({ params, rng: createRng(3) }, 'g', 16, 4, 3, { stride: 2 });
    const w = params.get('g.weight')!.variable;
    assert.deepEqual(w.shape, [3, 3, 4, 16]);
    const x = tf.tensor4d(seeded(2 * 9 * 9 * 16, 4), [2, 9, 9, 16]);
    const reference = (input: tf.Tensor4D, weight: tf.Tensor): tf.Tensor =>
      tf.concat(
        tf
          .split(input, 4, 3)
          .map((xg, g) =>
            tf.conv2d(xg as tf.Tensor4D, tf.slice(weight, [0, 0, 0, g * 4], [3, 3, 4, 4]) as tf.Tensor4D, 2, 1),
          ),
        3,
      );
    const [ours, ref] = tf.tidy(() => [layer(x, ctx(false)), reference(x, w)]);
    const a = await ours!.data();
    const r = await ref!.data();
    assert.deepEqual(ours!.shape, [2, 5, 5, 16]);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - r[i]!) < 1e-4);
    const weights = seeded(2 * 5 * 5 * 16, 5);
    const loss = (f: () => tf.Tensor): tf.Tensor => tf.sum(tf.mul(f(), tf.tensor4d(weights, [2, 5, 5, 16])));
    const g1 = tf.variableGrads(() => loss(() => layer(x, ctx(false))) as tf.Scalar, [w]);
    const g2 = tf.variableGrads(() => loss(() => reference(x, w)) as tf.Scalar, [w]);
    const d1 = await g1.grads[w.name]!.data();
    const d2 = await g2.grads[w.name]!.data();
    for (let i = 0; i < d1.length; i++) assert.ok(Math.abs(d1[i]! - d2[i]!) < 1e-3, `grad ${i}: ${d1[i]} vs ${d2[i]}`);
    tf.dispose([x, ours!, ref!, g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
    params.dispose();
  });

  it('cosine head gives 20 x the cosine between the feature and each class weight, with no bias', async () => {
    const params = new ParamSet();
    const head = buildCosineHead({ params, rng: createRng(7) }, 4, 3);
    const w = params.get('head.weight')!.variable;
    const bound = Math.sqrt(6 / 7);
    const wv = await w.data();
    assert.ok(wv.every((v) => Math.abs(v) <= bound));
    const f = tf.tensor2d([
      [1, 2, 3, 4],
      [0, 0, 0, 5],
    ]);
    const logits = await tf.tidy(() => head(f)).array();
    for (let n = 0; n < 2; n++) {
      const fv = [...(await f.slice([n, 0], [1, 4]).data())];
      for (let j = 0; j < 3; j++) {
        const col = [0, 1, 2, 3].map((i) => wv[i * 3 + j]!);
        const cos = fv.reduce((s, v, i) => s + v * col[i]!, 0) / Math.hypot(...fv) / Math.hypot(...col);
        assert.ok(Math.abs(logits[n]![j]! - 20 * cos) < 1e-4);
      }
    }
    // Scaling a feature does not change its logits.
    const scaled = await tf.tidy(() => head(tf.mul(f, 7) as tf.Tensor2D)).array();
    assert.ok(Math.abs(scaled[0]![0]! - logits[0]![0]!) < 1e-4);
    f.dispose();
    params.dispose();
  });

  it('batch norm uses batch statistics in training and updates running stats with PyTorch momentum', async () => {
    const params = new ParamSet();
    const bn = batchNorm({ params, rng: createRng(0) }, 'bn', 2, { momentum: 0.1 });
    // Channel 0 holds 1..4, channel 1 holds 10 everywhere.
    const x = tf.tensor4d([1, 10, 2, 10, 3, 10, 4, 10], [1, 2, 2, 2]);
    const c = ctx(true);
    const y = await tf.tidy(() => bn(x, c)).data();
    assert.ok(Math.abs(y[0]! - (1 - 2.5) / Math.sqrt(1.25 + 1e-5)) < 1e-4);
    applyBatchNormUpdates(c);
    const mean = await params.get('bn.running_mean')!.variable.data();
    const variance = await params.get('bn.running_var')!.variable.data();
    assert.ok(Math.abs(mean[0]! - 0.25) < 1e-6 && Math.abs(mean[1]! - 1) < 1e-6);
    // Unbiased variance 1.25 · 4/3, mixed with the initial 1.
    assert.ok(Math.abs(variance[0]! - (0.9 + (0.1 * (1.25 * 4)) / 3)) < 1e-6);
    assert.ok(Math.abs(variance[1]! - 0.9) < 1e-6);
    x.dispose();
    params.dispose();
  });

  it('the hand-written batch-norm gradient equals the autodiff of tfjs batchNorm', async () => {
    const x = tf.tensor4d(seeded(2 * 3 * 3 * 4, 11), [2, 3, 3, 4]);
    const gamma = tf.tensor1d([1, 0.5, 2, -1]);
    const beta = tf.tensor1d([0, 1, -1, 0.5]);
    const w = tf.tensor4d(seeded(2 * 3 * 3 * 4, 12), [2, 3, 3, 4]);
    const ours = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(trainingBatchNorm(a as tf.Tensor4D, g, b, 1e-5).y, w)),
    );
    const reference = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(
        tf.mul(
          tf.batchNorm4d(
            a as tf.Tensor4D,
            mean as tf.Tensor1D,
            variance as tf.Tensor1D,
            b as tf.Tensor1D,
            g as tf.Tensor1D,
            1e-5,
          ),
          w,
        ),
      );
    });
    const g1 = ours([x, gamma, beta]);
    const g2 = reference([x, gamma, beta]);
    for (let k = 0; k < 3; k++) {
      const a = await g1[k]!.data();
      const b = await g2[k]!.data();
      for (let i = 0; i < a.length; i++)
        assert.ok(Math.abs(a[i]! - b[i]!) < 1e-3, `input ${k}[${i}]: ${a[i]} vs ${b[i]}`);
    }
    tf.dispose([x, gamma, beta, w, ...g1, ...g2]);
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`the fused batch norm + ReLU kernel on ${backend} matches the autodiff of composed tfjs ops`, async () => {
      // The reference is composed from tfjs ops and differentiated by tfjs, on the cpu backend.
      const shape: [number, number, number, number] = [3, 4, 5, 6];
      const size = shape.reduce((a, b) => a * b, 1);
      const inputs = (): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] => [
        tf.tidy(() => tf.add(tf.mul(tf.tensor4d(seeded(size, 31), shape), 3), 0.7)), // mean ≠ 0, std ≠ 1
        tf.tensor1d([1, 0.5, 2, -1, 0.3, 1.5]),
        tf.tensor1d([0, 0.1, -0.2, 0.3, 0, -0.1]),
        tf.tensor4d(seeded(size, 32), shape),
      ];
      const run = async (
        f: (x: tf.Tensor4D, g: tf.Tensor, b: tf.Tensor) => tf.Tensor,
      ): Promise<{ y: Float32Array; grads: Float32Array[] }> => {
        const [x, g, b, w] = inputs();
        const y = tf.tidy(() => f(x as tf.Tensor4D, g, b));
        const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(f(a as tf.Tensor4D, gg, bb), w)),
        )([x, g, b]);
        const out = {
          y: (await y.data()) as Float32Array,
          grads: await Promise.all(grads.map(async (t) => (await t.data()) as Float32Array)),
        };
        tf.dispose([x, g, b, w, y, ...grads]);
        return out;
      };
      try {
        await tf.setBackend('cpu');
        const reference = await run((x, g, b) => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          return tf.relu(
            tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5),
          );
        });
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const ours = await run((x, g, b) => trainingBatchNorm(x, g, b, 1e-5, true).y);
        assert.equal(tf.memory().numTensors, before);
        assert.ok(ours.y.some((v) => v === 0) && ours.y.some((v) => v > 0), 'the ReLU clips part of the output');
        for (let i = 0; i < ours.y.length; i++) assert.ok(Math.abs(ours.y[i]! - reference.y[i]!) < 1e-4, `y[${i}]`);
        for (let k = 0; k < 3; k++) {
          const a = ours.grads[k]!;
          const r = reference.grads[k]!;
          for (let i = 0; i < a.length; i++)
            assert.ok(Math.abs(a[i]! - r[i]!) < 1e-3, `input ${k}[${i}]: ${a[i]} vs ${r[i]}`);
        }
      } finally {
        await useWasm();
      }
    });
  }

  it('conv + batch norm folds into one fused conv in eval mode with the same output', async () => {
    const params = new ParamSet();
    const layer = convBn({ params, rng: createRng(5) }, 'c', 'bn', 3, 6, 3, { stride: 2, relu: true });
    // Non-trivial running statistics and affine parameters.
    const set = (name: string, values: number[]): void => {
      const t = tf.tensor1d(values);
      params.get(name)!.variable.assign(t);
      t.dispose();
    };
    const bnName = 'bn';
    set(`${bnName}.weight`, [1, 0.5, 2, -1, 0.3, 1.5]);
    set(`${bnName}.bias`, [0, 0.1, -0.2, 0.3, 0, -0.1]);
    set(`${bnName}.running_mean`, [0.1, -0.2, 0.3, 0, 0.5, -0.4]);
    set(`${bnName}.running_var`, [1, 2, 0.5, 0.25, 3, 1.5]);
    const x = tf.tensor4d(seeded(2 * 7 * 7 * 3, 21), [2, 7, 7, 3]);
    const fused = tf.tidy(() => layer(x, ctx(false)));
    const reference = tf.tidy(() => {
      const v = (n: string): tf.Tensor1D => params.get(`${bnName}.${n}`)!.variable as tf.Tensor1D;
      const y = tf.conv2d(x, params.get('c.weight')!.variable as tf.Tensor4D, 2, 1);
      return tf.relu(tf.batchNorm4d(y, v('running_mean'), v('running_var'), v('bias'), v('weight'), 1e-5));
    });
    const a = await fused.data();
    const r = await reference.data();
    assert.deepEqual(fused.shape, [2, 4, 4, 6]);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - r[i]!) < 1e-4, `${i}: ${a[i]} vs ${r[i]}`);
    tf.dispose([x, fused, reference]);
    params.dispose();
  });
});
