import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';
import { seeded } from './helpers.js';

type Pad = 'same' | 'valid' | number;

interface Case {
  readonly x: [number, number, number, number];
  readonly k: number;
  readonly out: number;
  readonly stride: number;
  readonly pad: Pad;
}

/** Seeded values for a tensor of `shape`. */
function values(shape: number[], seed: number): Float32Array {
  return seeded(tf.util.sizeFromShape(shape), seed);
}

async function gradsOn(
  backend: string,
  f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor,
  xShape: number[],
  wShape: number[],
): Promise<[Float32Array, Float32Array]> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(values(xShape, 1), xShape as [number, number, number, number]);
  const w = tf.tensor4d(values(wShape, 2), wShape as [number, number, number, number]);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
    const y = f(a as tf.Tensor4D, b as tf.Tensor4D);
    // A non-uniform weighting of the output so that dy is not constant.
    return tf.sum(tf.mul(y, tf.tensor(values(y.shape, 3), y.shape)));
  });
  const [dx, dw] = g([x, w]);
  const result: [Float32Array, Float32Array] = [(await dx!.data()) as Float32Array, (await dw!.data()) as Float32Array];
  tf.dispose([x, w, dx!, dw!]);
  return result;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const conv: Case[] = [
  { x: [2, 7, 7, 3], k: 3, out: 4, stride: 1, pad: 'same' },
  { x: [2, 8, 8, 3], k: 3, out: 5, stride: 2, pad: 'same' },
  { x: [1, 9, 9, 2], k: 7, out: 3, stride: 2, pad: 3 },
  { x: [2, 6, 6, 4], k: 1, out: 6, stride: 2, pad: 'valid' },
  { x: [1, 7, 7, 3], k: 1, out: 4, stride: 2, pad: 'same' },
  { x: [1, 9, 8, 2], k: 5, out: 3, stride: 2, pad: 'same' },
  { x: [2, 5, 5, 3], k: 3, out: 2, stride: 1, pad: 'valid' },
];

const depthwise: Array<Case & { mult: number }> = [
  { x: [2, 7, 7, 3], k: 3, out: 3, mult: 1, stride: 1, pad: 'same' },
  { x: [2, 8, 8, 4], k: 3, out: 4, mult: 1, stride: 2, pad: 'same' },
  { x: [1, 9, 9, 2], k: 5, out: 2, mult: 1, stride: 2, pad: 'same' },
  { x: [2, 6, 6, 4], k: 3, out: 8, mult: 2, stride: 1, pad: 'valid' },
  { x: [1, 8, 7, 2], k: 5, out: 6, mult: 3, stride: 2, pad: 1 },
];

describe('composite wasm training kernels', () => {
  before(async () => {
    registerWasmTrainingKernels();
    assert.ok(await tf.setBackend('wasm'));
  });

  for (const c of conv) {
    it(`conv2d gradients match the cpu backend for x ${c.x.join('x')}, k ${c.k}, stride ${c.stride}, pad ${c.pad}`, async () => {
      const wShape = [c.k, c.k, c.x[3], c.out];
      const f = (x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor => tf.conv2d(x, w, c.stride, c.pad);
      const [dxCpu, dwCpu] = await gradsOn('cpu', f, c.x, wShape);
      const [dxWasm, dwWasm] = await gradsOn('wasm', f, c.x, wShape);
      assert.ok(maxDiff(dxCpu, dxWasm) < 1e-4, `dx differs by ${maxDiff(dxCpu, dxWasm)}`);
      assert.ok(maxDiff(dwCpu, dwWasm) < 1e-4, `dw differs by ${maxDiff(dwCpu, dwWasm)}`);
    });
  }

  for (const c of depthwise) {
    it(`depthwise gradients match the cpu backend for x ${c.x.join('x')}, k ${c.k}, mult ${c.mult}, stride ${c.stride}, pad ${c.pad}`, async () => {
      const wShape = [c.k, c.k, c.x[3], c.mult];
      const f = (x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor => tf.depthwiseConv2d(x, w, c.stride, c.pad);
      const [dxCpu, dwCpu] = await gradsOn('cpu', f, c.x, wShape);
      const [dxWasm, dwWasm] = await gradsOn('wasm', f, c.x, wShape);
      assert.ok(maxDiff(dxCpu, dxWasm) < 1e-4, `dx differs by ${maxDiff(dxCpu, dxWasm)}`);
      assert.ok(maxDiff(dwCpu, dwWasm) < 1e-4, `dw differs by ${maxDiff(dwCpu, dwWasm)}`);
    });
  }

  it('frees every intermediate tensor of the composite kernels', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(values([2, 8, 8, 4], 5), [2, 8, 8, 4]);
    const w = tf.tensor4d(values([3, 3, 4, 2], 6), [3, 3, 4, 2]);
    const dw = tf.tensor4d(values([3, 3, 4, 1], 7), [3, 3, 4, 1]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.add(
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))),
        tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 2, 'same'))),
      ),
    );
    tf.dispose(g([x, w, dw])); // warm-up
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    tf.dispose(g([x, w, dw]));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.memory().numBytes, bytesBefore);
    tf.dispose([x, w, dw]);
  });
});
