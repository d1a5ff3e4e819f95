import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';

import { exportClassifierToOnnx } from '../src/onnx/export-classifier.js';

import { type ArchitectureConfig, createClassifier, type Classifier } from '@kzr/ml';

// Seeded non-trivial batch-norm statistics and affine parameters, so folding is exercised.
function randomiseBatchNorm(model: Classifier, seed: number): void {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (const e of model.params.entries) {
    const n = e.variable.size;
    const fill = (f: () => number): void => {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = f();
      const t = tf.tensor(v, e.variable.shape);
      e.variable.assign(t);
      t.dispose();
    };
    if (e.name.endsWith('.running_mean') || e.name.endsWith('.bias')) fill(() => (next() - 0.5) * 0.4);
    else if (e.name.endsWith('.running_var')) fill(() => 0.5 + next());
    else if (e.name.endsWith('bn1.weight') || e.name.endsWith('bn2.weight') || e.name.endsWith('bn3.weight')) {
      fill(() => 0.6 + next() * 0.8);
    }
  }
}

function input(n: number, c: number, size: number, seed: number): Float32Array {
  const out = new Float32Array(n * c * size * size);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 3;
  }
  return out;
}

async function parity(config: ArchitectureConfig, size: number): Promise<number> {
  const model = createClassifier(config);
  try {
    randomiseBatchNorm(model, 7);
    const n = 3;
    const c = config.inputChannels;
    const nchw = input(n, c, size, 11);
    // tfjs takes NHWC.
    const expected = tf.tidy(() => {
      const x = tf.transpose(tf.tensor4d(nchw, [n, c, size, size]), [0, 2, 3, 1]) as tf.Tensor4D;
      return model.logits(x, { training: false, updates: [] });
    });
    const want = (await expected.data()) as Float32Array;
    expected.dispose();
    const bytes = await exportClassifierToOnnx(model);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ input: new ort.Tensor('float32', nchw, [n, c, size, size]) });
      const got = out.logits!.data as Float32Array;
      assert.deepEqual(out.logits!.dims, [n, config.numClasses]);
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i]! - got[i]!));
      // The logits must carry signal, not be a constant that matches trivially.
      const spread = Math.max(...want) - Math.min(...want);
      assert.ok(spread > 0.5, `logits spread ${spread}`);
      return maxDiff;
    } finally {
      await session.release();
    }
  } finally {
    model.dispose();
  }
}

describe('ONNX export of zoo classifiers', () => {
  it('ResNet (compact stem, basic blocks) matches tfjs logits within 1e-4', async (t: TestContext) => {
    const d = await parity(
      {
        arch: 'resnet18',
        inputChannels: 1,
        numClasses: 10,
        stem: 'compact',
        widthMultiplier: 0.25,
        depthMultiplier: 0.5,
      },
      32,
    );
    t.diagnostic(`max |Δlogit| ${d.toExponential(2)}`);
    assert.ok(d < 1e-4, `max |Δlogit| ${d}`);
  });

  it('ResNet-50 (ImageNet stem with max-pool, bottlenecks) matches tfjs logits within 1e-4', async (t: TestContext) => {
    const d = await parity(
      {
        arch: 'resnet50',
        inputChannels: 3,
        numClasses: 12,
        widthMultiplier: 0.125,
        depthMultiplier: 0.34,
        initSeed: 3,
      },
      32,
    );
    t.diagnostic(`max |Δlogit| ${d.toExponential(2)}`);
    assert.ok(d < 1e-4, `max |Δlogit| ${d}`);
  });

  it('SE-ResNeXt (grouped convolutions, SE, ceil-mode pool) matches tfjs logits within 1e-4', async (t: TestContext) => {
    const d = await parity(
      {
        arch: 'se_resnext50_32x4d',
        inputChannels: 3,
        numClasses: 9,
        widthMultiplier: 0.125,
        depthMultiplier: 0.34,
        groups: 4,
        baseWidth: 16,
        initSeed: 5,
      },
      33,
    );
    t.diagnostic(`max |Δlogit| ${d.toExponential(2)}`);
    assert.ok(d < 1e-4, `max |Δlogit| ${d}`);
  });

  it('EfficientNet (depthwise convolutions, swish, TF same padding) matches tfjs logits within 1e-4', async (t: TestContext) => {
    const d = await parity(
      { arch: 'efficientnet-b0', inputChannels: 1, numClasses: 11, widthMultiplier: 0.25, depthMultiplier: 0.34 },
      32,
    );
    t.diagnostic(`max |Δlogit| ${d.toExponential(2)}`);
    assert.ok(d < 1e-4, `max |Δlogit| ${d}`);
  });

  it('rejects a model whose variables do not fit the architecture', async () => {
    const model = createClassifier({
      arch: 'resnet18',
      inputChannels: 1,
      numClasses: 4,
      stem: 'compact',
      widthMultiplier: 0.25,
      depthMultiplier: 0.5,
    });
    try {
      const broken = { ...model, config: { ...model.config, arch: 'efficientnet-b0' as const } };
      await assert.rejects(exportClassifierToOnnx(broken), { name: 'OnnxExportError' });
    } finally {
      model.dispose();
    }
  });
});
