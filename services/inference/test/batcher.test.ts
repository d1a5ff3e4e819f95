import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { exportClassifierToOnnx } from '@kzr/ml';
import { ResourceExhaustedError } from '@kzr/platform';

import { DynamicBatcher } from '../src/ensemble/batcher.js';
import { type InferenceEngine } from '../src/engine/engine.js';
import { createOnnxEngine } from '../src/engine/onnx-engine.js';
import { seededModel, tinyResnet } from './helpers.js';

const side = 32;
const rowSize = side * side;

async function engine(): Promise<InferenceEngine> {
  const model = seededModel(tinyResnet, 4);
  try {
    return await createOnnxEngine({ model: await exportClassifierToOnnx(model), side, channels: 1 });
  } finally {
    model.dispose();
  }
}

function rows(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * rowSize);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(i * 0.37 + seed);
  return out;
}

function close(a: Float32Array, b: Float32Array): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `row value ${i}: ${a[i]} vs ${b[i]}`);
}

describe('dynamic batching', () => {
  it('batches rows from concurrent requests and returns each request its own logits', async () => {
    const e = await engine();
    try {
      const batches: Array<[number, number]> = [];
      const batcher = new DynamicBatcher(
        e,
        rowSize,
        { maxBatch: 32, maxDelayMs: 20 },
        {
          onBatch: (n, requests) => batches.push([n, requests]),
        },
      );
      const inputs = Array.from({ length: 8 }, (_, i) => rows(7, i));
      const solo = await Promise.all(inputs.map((x) => e.run(x, 7)));
      const together = await Promise.all(inputs.map((x) => batcher.submit(x, 7)));
      together.forEach((got, i) => close(got, solo[i]!));
      // 56 rows in at most 32-row batches: fewer batches than requests, none over the limit.
      assert.ok(batches.length < 8, `batches ${JSON.stringify(batches)}`);
      assert.ok(batches.every(([n]) => n <= 32));
      assert.ok(
        batches.some(([, r]) => r > 1),
        'some batch mixes requests',
      );
      assert.equal(
        batches.reduce((a, [n]) => a + n, 0),
        56,
      );
      assert.equal(batcher.queueDepth, 0);
    } finally {
      await e.dispose();
    }
  });

  it('splits a request larger than maxBatch and reassembles it in order', async () => {
    const e = await engine();
    try {
      const sizes: number[] = [];
      const batcher = new DynamicBatcher(e, rowSize, { maxBatch: 4, maxDelayMs: 0 }, { onBatch: (n) => sizes.push(n) });
      const x = rows(10, 3);
      close(await batcher.submit(x, 10), await e.run(x, 10));
      assert.deepEqual(sizes, [4, 4, 2]);
    } finally {
      await e.dispose();
    }
  });

  it('rejects every request of a failing batch', async () => {
    const e = await engine();
    await e.dispose();
    const batcher = new DynamicBatcher(e, rowSize, { maxBatch: 8, maxDelayMs: 1 });
    const results = await Promise.allSettled([batcher.submit(rows(2, 1), 2), batcher.submit(rows(3, 2), 3)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });

  it('refuses a request while maxQueue rows wait, and accepts again once the queue drains', async () => {
    const e = await engine();
    try {
      const rejected: number[] = [];
      const batcher = new DynamicBatcher(
        e,
        rowSize,
        { maxBatch: 2, maxDelayMs: 50, maxQueue: 4 },
        { onReject: (n) => rejected.push(n) },
      );
      // The first batch (2 rows) starts at once and 1 row waits; the second request arrives under
      // the bound and is accepted whole (4 rows wait); the third arrives at the bound.
      const first = batcher.submit(rows(3, 1), 3);
      const second = batcher.submit(rows(3, 2), 3);
      await assert.rejects(
        batcher.submit(rows(1, 3), 1),
        (err: unknown) =>
          err instanceof ResourceExhaustedError && err.limit === 'KZR_INFERENCE_MAX_QUEUE' && err.max === 4,
      );
      assert.deepEqual(rejected, [1]);
      await Promise.all([first, second]);
      assert.equal(batcher.queueDepth, 0);
      close(await batcher.submit(rows(1, 3), 1), await e.run(rows(1, 3), 1));
    } finally {
      await e.dispose();
    }
  });
});
