/**
 * The exporter's self-check: run a classifier in tfjs and its ONNX export in ONNX Runtime on the
 * same seeded NHWC input and report the largest logit difference.
 */
import * as tf from '@tensorflow/tfjs';
import { type Classifier } from '@kzr/ml';

import { createOnnxEngine } from './onnx-engine.js';

/** Largest |tfjs − ONNX Runtime| logit difference on `rows` seeded `side`×`side` inputs. */
export async function onnxParity(model: Classifier, onnx: Uint8Array, side: number, rows = 2): Promise<number> {
  const ch = model.config.inputChannels;
  const x = new Float32Array(rows * side * side * ch);
  let s = 7;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  const want = tf.tidy(() => model.logits(tf.tensor4d(x, [rows, side, side, ch]), { training: false, updates: [] }));
  const expected = (await want.data()) as Float32Array;
  want.dispose();
  const engine = await createOnnxEngine({ model: onnx, side, channels: ch, layout: 'nchw' });
  try {
    const got = await engine.run(x, rows);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    return maxDiff;
  } finally {
    await engine.dispose();
  }
}
