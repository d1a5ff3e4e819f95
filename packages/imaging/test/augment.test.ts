import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createRng } from '@kzr/core';

import {
  augmentSample,
  icap,
  mixup,
  randomErasing,
  randomResizedCropBox,
  rotateBicubic,
  type SampleAugmentParams,
} from '@kzr/imaging/augment';

function grey(
  width: number,
  height: number,
  value: number,
  channels = 3,
): { width: number; height: number; channels: number; data: Uint8Array } {
  return { width, height, channels, data: new Uint8Array(width * height * channels).fill(value) };
}

const params: SampleAugmentParams = {
  channels: 3,
  resize: 36,
  crop: 32,
  rotationDeg: 5,
  cropScale: [0.85, 0.9],
  cropRatio: [0.875, 8 / 7],
  grayscaleProb: 0.2,
  brightness: 0.25,
  contrast: 0.25,
  saturation: 0.25,
  hue: 0.125,
  pcaStd: 0.125,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  erasingProb: 0.5,
};

function gradient(): { width: number; height: number; channels: number; data: Uint8Array } {
  const img = grey(40, 30, 0);
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 7) % 251;
  return img;
}

describe('per-sample augmentation', () => {
  it('rotation keeps the centre and blackens the corners', () => {
    const out = rotateBicubic(grey(32, 32, 200, 1), 10);
    assert.equal(out.data[0], 0);
    assert.equal(out.data[16 * 32 + 16], 200);
  });

  it('RandomResizedCrop boxes stay inside the image with 85-90 % of its area', () => {
    const rng = createRng(3);
    for (let i = 0; i < 200; i++) {
      const b = randomResizedCropBox(124, 124, [0.85, 0.9], [0.875, 8 / 7], rng);
      assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= 124 && b.y + b.height <= 124);
      const frac = (b.width * b.height) / (124 * 124);
      assert.ok(frac > 0.83 && frac < 0.92, `area fraction ${frac}`);
    }
  });

  it('is reproducible from the seed and differs between seeds', () => {
    const a = augmentSample(gradient(), params, createRng(5));
    const b = augmentSample(gradient(), params, createRng(5));
    const c = augmentSample(gradient(), params, createRng(6));
    assert.equal(a.data.length, 32 * 32 * 3);
    assert.deepEqual(a.data, b.data);
    assert.notDeepEqual(a.data, c.data);
  });
});

describe('batch augmentation', () => {
  it('RandomErasing fills one rectangle per erased image with U[0, 1) noise', () => {
    const batch = new Float32Array(8 * 16 * 16).fill(5);
    randomErasing(batch, 8, 16, 16, 1, 1, createRng(2));
    for (let n = 0; n < 8; n++) {
      const img = batch.subarray(n * 256, (n + 1) * 256);
      const erased = img.filter((v) => v !== 5);
      assert.ok(erased.length >= 1 && erased.every((v) => v >= 0 && v < 1));
    }
    const untouched = new Float32Array(4 * 16 * 16).fill(5);
    randomErasing(untouched, 4, 16, 16, 1, 0, createRng(2));
    assert.ok(untouched.every((v) => v === 5));
  });

  it('mixup blends each image with its partner by λ and returns λ, 1 − λ', () => {
    const n = 4;
    const batch = Float32Array.from({ length: n * 3 }, (_, i) => Math.floor(i / 3));
    const original = batch.slice();
    const mix = mixup(batch, n, 0.2, createRng(9));
    const [lambda, rest] = mix.weights as [number, number];
    assert.ok(Math.abs(lambda + rest - 1) < 1e-12);
    for (let i = 0; i < n; i++) {
      const j = mix.perms[1]![i]!;
      assert.ok(Math.abs(batch[i * 3]! - (lambda * original[i * 3]! + rest * original[j * 3]!)) < 1e-5);
    }
  });

  it('ICAP takes each quadrant from its permutation at the same position, weighted by area', () => {
    const n = 5;
    const h = 8;
    const w = 8;
    const batch = new Float32Array(n * h * w);
    for (let i = 0; i < batch.length; i++) batch[i] = i; // every pixel of every image is distinct
    const original = batch.slice();
    const mix = icap(batch, n, h, w, 1, 1, 1, createRng(4));
    assert.equal(mix.weights.length, 4);
    assert.ok(Math.abs(mix.weights.reduce((s, v) => s + v, 0) - 1) < 1e-12);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < h * w; p++) {
        const v = batch[i * h * w + p]!;
        const src = Math.floor(v / (h * w));
        assert.equal(v, original[src * h * w + p]); // same position
        assert.ok(mix.perms.some((perm) => perm[i] === src));
      }
    }
  });
});
