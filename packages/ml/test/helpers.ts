import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels.js';
import { createClassifier } from '../src/models/create-model.js';
import type { ArchitectureConfig } from '../src/models/types.js';

/** Switches the process to the wasm backend with the composite training kernels. */
export async function useWasm(): Promise<void> {
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
}

/** Deterministic pseudo-random values in [-0.5, 0.5). */
export function seeded(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/**
 * Builds a full-size classifier (3-channel stem, 4212 classes), runs one forward pass at batch 1
 * on a `side` px input and checks the cosine logits and that no tensor leaks. Each architecture
 * runs from its own test file, so no file nears the per-file time budget.
 */
export async function checkFullSizeForward(arch: ArchitectureConfig['arch'], side: number): Promise<void> {
  const before = tf.memory().numTensors;
  const model = createClassifier({ arch, inputChannels: 3, numClasses: 4212 });
  const x = tf.tensor4d(seeded(side * side * 3, 1), [1, side, side, 3]);
  const logits = tf.tidy(() => model.logits(x, { training: false, updates: [] }));
  const values = await logits.data();
  assert.deepEqual(logits.shape, [1, 4212]);
  // Cosine logits lie in [-20, 20] and are not all equal.
  assert.ok(values.every((v) => Number.isFinite(v) && Math.abs(v) <= 20 + 1e-4));
  assert.ok(Math.max(...values) - Math.min(...values) > 1e-3);
  tf.dispose([x, logits]);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
}
