import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createRng, deriveSeed, InvalidArgumentError, restoreRng } from '@kzr/core';

describe('seeded rng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    assert.deepEqual(
      Array.from({ length: 8 }, () => b.nextUint32()),
      seqA,
    );
    assert.notDeepEqual(
      Array.from({ length: 8 }, () => c.nextUint32()),
      seqA,
    );
    assert.deepEqual(
      Array.from({ length: 4 }, () => createRng('book-split').next()),
      Array.from({ length: 4 }, () => createRng('book-split').next()),
    );
  });

  it('draws floats in [0, 1) and integers roughly uniformly', () => {
    const rng = createRng(7);
    const counts = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) {
      const f = rng.next();
      assert.ok(f >= 0 && f < 1);
      counts[rng.int(10)]!++;
    }
    const expected = draws / 10;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: the 99.9 % quantile is 27.9.
    assert.ok(chi2 < 27.9, `chi2 ${chi2}`);
    for (let i = 0; i < 1000; i++) {
      const v = rng.intBetween(-3, 3);
      assert.ok(Number.isInteger(v) && v >= -3 && v <= 3);
    }
  });

  it('shuffles into a permutation and samples distinct indices', () => {
    const rng = createRng(1);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle([...items]);
    assert.notDeepEqual(shuffled, items);
    assert.deepEqual(
      [...shuffled].sort((a, b) => a - b),
      items,
    );
    const picks = rng.sampleIndices(1_000_000, 20);
    assert.equal(new Set(picks).size, 20);
    assert.ok(picks.every((p) => p >= 0 && p < 1_000_000));
    assert.deepEqual([...rng.sampleIndices(5, 5)].sort(), [0, 1, 2, 3, 4]);
    assert.throws(() => rng.sampleIndices(3, 4), InvalidArgumentError);
  });

  it('gives normal draws with mean 0 and variance 1', () => {
    const rng = createRng(3);
    const n = 50_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sq += z * z;
    }
    assert.ok(Math.abs(sum / n) < 0.03);
    assert.ok(Math.abs(sq / n - 1) < 0.03);
  });

  it('derives distinct, repeatable seeds per label', () => {
    const epochs = Array.from({ length: 100 }, (_, e) => deriveSeed(5, 'undersample', e));
    assert.equal(new Set(epochs).size, 100);
    assert.equal(deriveSeed(5, 'undersample', 3), epochs[3]);
    assert.notEqual(deriveSeed(6, 'undersample', 3), epochs[3]);
    assert.throws(() => createRng(0.5), InvalidArgumentError);
  });

  it('continues the exact sequence from an exported state, a pending spare normal included', () => {
    const a = createRng(42);
    for (let i = 0; i < 10; i++) a.next();
    a.normal(); // leaves the pair's second normal pending
    const saved = JSON.parse(JSON.stringify(a.state())) as ReturnType<typeof a.state>;
    const b = restoreRng(saved);
    const draws = (r: typeof a): number[] => [r.normal(), r.next(), r.beta(0.2, 0.2), r.gamma(2.5), r.nextUint32()];
    assert.deepEqual(draws(b), draws(a));
    assert.throws(() => restoreRng({ words: [0, 0, 0, 0] }), InvalidArgumentError);
    assert.throws(() => restoreRng({ words: [1, 2, 3, 2 ** 32] }), InvalidArgumentError);
  });

  it('draws Beta(0.2, 0.2) with mean 1/2 and most mass near 0 and 1, and Gamma(k) with mean k', () => {
    const rng = createRng(1);
    const draws = Array.from({ length: 4000 }, () => rng.beta(0.2, 0.2));
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    assert.ok(Math.abs(mean - 0.5) < 0.03, `beta mean ${mean}`);
    assert.ok(draws.filter((v) => v < 0.1 || v > 0.9).length > 0.5 * draws.length);
    for (const shape of [0.3, 1, 4]) {
      const n = 20_000;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += rng.gamma(shape);
      assert.ok(Math.abs(sum / n - shape) < 0.05 * shape + 0.01, `gamma(${shape}) mean ${sum / n}`);
    }
    assert.throws(() => rng.gamma(0), InvalidArgumentError);
  });

  it('permutes 0..n-1 and shuffles typed arrays in place', () => {
    const rng = createRng(11);
    const p = rng.permutation(40);
    assert.deepEqual(
      [...p].sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i),
    );
    const typed = Int32Array.from({ length: 40 }, (_, i) => i);
    assert.equal(rng.shuffle(typed), typed);
    assert.notDeepEqual(
      [...typed],
      Array.from({ length: 40 }, (_, i) => i),
    );
  });
});
