import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { mixedTargets, refinementTargets, softCrossEntropy } from '../src/train/losses.js';
import { learningRate, scaleSchedule, type LrScheduleParams } from '../src/train/schedule.js';
import { parseModelConfig } from '../src/config/model-config.js';
import { Sgd } from '../src/train/sgd.js';

const close = (a: number, b: number, tol = 1e-9): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('learning-rate schedule (spec §4.3)', () => {
  const n = 100;
  const multistep: LrScheduleParams = {
    baseLr: 0.1,
    warmupEpochs: 5,
    itersPerEpoch: n,
    schedule: { type: 'multistep', milestones: [20, 40, 60, 70], gamma: 0.1 },
  };
  const cosine: LrScheduleParams = { ...multistep, schedule: { type: 'cosine', tMaxEpochs: 86, etaMin: 1e-6 } };

  it('uses the full base lr for the very first update, then ramps per iteration', () => {
    assert.equal(learningRate(multistep, 0, 0), 0.1);
    assert.ok(close(learningRate(multistep, 0, 1), (0.1 * 1) / (n * 6)));
    assert.ok(close(learningRate(multistep, 2, 50), (0.1 * (2 * n + 50)) / (n * 6)));
    assert.ok(close(learningRate(multistep, 4, n - 1), (0.1 * (5 * n - 1)) / (n * 6)));
  });

  it('holds 5/6 of base after warmup and drops ×0.1 at epochs 20, 40, 60, 70', () => {
    const top = 0.1 * (5 / 6);
    assert.ok(close(learningRate(multistep, 5, 0), top));
    assert.ok(close(learningRate(multistep, 19, n - 1), top));
    assert.ok(close(learningRate(multistep, 20, 0), top * 0.1));
    assert.ok(close(learningRate(multistep, 45, 3), top * 0.01));
    assert.ok(close(learningRate(multistep, 65, 3), top * 1e-3));
    assert.ok(close(learningRate(multistep, 79, n - 1), top * 1e-4));
  });

  it('decays by cosine over 86 epochs of iterations from 5/6 of base, ending near 3e-5', () => {
    assert.ok(close(learningRate(cosine, 5, 0), 0.1 * (5 / 6)));
    const mid = learningRate(cosine, 5 + 43, 0);
    assert.ok(close(mid, 1e-6 + (0.1 * (5 / 6) - 1e-6) / 2));
    const last = learningRate(cosine, 89, n - 1);
    assert.ok(last > 2e-5 && last < 4e-5, `final lr ${last}`);
  });
});

describe('--epochs scales the schedule', () => {
  const base = parseModelConfig({
    model: { arch: 'resnet18', inputChannels: 1, numClasses: 4 },
    train: { epochs: 5, warmupEpochs: 1, schedule: { type: 'cosine', tMaxEpochs: 4, etaMin: 0.001 } },
  }).train;

  it('stretches warmup and the cosine length so a 2-epoch run ends at η_min, not part-way down', () => {
    const n = 10;
    const lrAt = (t: typeof base, epoch: number, iter: number): number =>
      learningRate(
        { baseLr: t.baseLr, warmupEpochs: t.warmupEpochs, itersPerEpoch: n, schedule: t.schedule },
        epoch,
        iter,
      );
    assert.ok(lrAt(base, 1, n - 1) > 0.04, 'unscaled: still high after 2 epochs');
    const short = scaleSchedule(base, 2);
    assert.equal(short.epochs, 2);
    assert.equal(short.warmupEpochs, 0);
    assert.deepEqual(short.schedule, { type: 'cosine', tMaxEpochs: 2, etaMin: 0.001 });
    assert.ok(lrAt(short, 1, n - 1) < 0.002, `scaled: ${lrAt(short, 1, n - 1)} at the end`);
    const long = scaleSchedule(base, 10);
    assert.equal(long.warmupEpochs, 2);
    assert.deepEqual(long.schedule, { type: 'cosine', tMaxEpochs: 8, etaMin: 0.001 });
    assert.equal(scaleSchedule(base, 5), base);
  });

  it('moves MultiStep milestones with the length', () => {
    const multi = {
      ...base,
      epochs: 80,
      warmupEpochs: 5,
      schedule: { type: 'multistep', milestones: [20, 40, 60, 70], gamma: 0.1 },
    } as const;
    const s = scaleSchedule(multi, 8);
    assert.deepEqual(s.schedule, { type: 'multistep', milestones: [2, 4, 6, 7], gamma: 0.1 });
    assert.equal(s.warmupEpochs, 1);
  });
});

describe('SGD and losses', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('SGD follows PyTorch: d = g + wd·p, buf = 0.9·buf + d, p -= lr·buf', async () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new Sgd([p], { momentum: 0.9, weightDecay: 0.1 });
    const g = tf.tensor1d([0.5, 0.5]);
    sgd.step([g], 0.1);
    // d = [0.6, 0.3]; buf = d; p = [0.94, -2.03]
    let v = await p.data();
    assert.ok(close(v[0]!, 0.94, 1e-6) && close(v[1]!, -2.03, 1e-6));
    sgd.step([g], 0.1);
    // d = [0.5 + 0.094, 0.5 - 0.203]; buf = 0.9·[0.6, 0.3] + d
    v = await p.data();
    assert.ok(close(v[0]!, 0.94 - 0.1 * (0.54 + 0.594), 1e-6));
    assert.ok(close(v[1]!, -2.03 - 0.1 * (0.27 + 0.297), 1e-6));
    tf.dispose([p, g]);
    sgd.dispose();
  });

  it('SGD from one flat gradient (in place on the backend memory) equals the tensor step', async () => {
    const make = (): tf.Variable[] => [
      tf.variable(tf.tensor2d([1, -2, 0.5, 3], [2, 2])),
      tf.variable(tf.tensor1d([0.25, -0.75, 4])),
    ];
    const a = make();
    const b = make();
    const sgdA = new Sgd(a, { momentum: 0.9, weightDecay: 1e-4 });
    const sgdB = new Sgd(b, { momentum: 0.9, weightDecay: 1e-4 });
    const flat = [
      new Float32Array([0.5, -0.1, 0.2, 0.3, 1, -1, 0.05]),
      new Float32Array([-0.2, 0.4, 0, 0.1, 0.3, 0.2, -0.6]),
    ];
    for (const [step, lr] of [
      [0, 0.1],
      [1, 0.05],
    ] as const) {
      const g = flat[step]!;
      const tensors = [tf.tensor2d(g.subarray(0, 4), [2, 2]), tf.tensor1d(g.subarray(4))];
      sgdA.step(tensors, lr);
      sgdB.stepFlat(g, lr);
      tf.dispose(tensors);
    }
    for (let i = 0; i < a.length; i++) {
      const va = await a[i]!.data();
      const vb = await b[i]!.data();
      const sa = await sgdA.slots[i]!.data();
      const sb = await sgdB.slots[i]!.data();
      for (let j = 0; j < va.length; j++) {
        assert.ok(close(va[j]!, vb[j]!, 1e-6) && close(sa[j]!, sb[j]!, 1e-6), `variable ${i}[${j}]`);
      }
    }
    tf.dispose([...a, ...b]);
    sgdA.dispose();
    sgdB.dispose();
  });

  it('mixed targets give λ·CE(y) + (1 − λ)·CE(y[π]) and refinement sums 0.9-scaled pseudo targets', async () => {
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 1.5, 0],
    ]);
    const labels = Int32Array.from([0, 2]);
    const perm = Int32Array.from([1, 0]);
    const t = tf.tensor2d(mixedTargets(labels, 3, [0.7, 0.3], [Int32Array.from([0, 1]), perm]), [2, 3]);
    const loss = (await softCrossEntropy(logits, t).data())[0]!;
    const ls = (await tf.logSoftmax(logits).array()) as number[][];
    const ce = (row: number, y: number): number => -ls[row]![y]!;
    const expected = (0.7 * (ce(0, 0) + ce(1, 2)) + 0.3 * (ce(0, 2) + ce(1, 0))) / 2;
    assert.ok(close(loss, expected, 1e-5));
    const r = tf.tensor2d(refinementTargets(labels, 3, Uint8Array.from([0, 1])), [2, 3]);
    const refine = (await softCrossEntropy(logits, r, 'sum').data())[0]!;
    assert.ok(close(refine, ce(0, 0) + 0.9 * ce(1, 2), 1e-5));
    tf.dispose([logits, t, r]);
  });
});
