import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sortedSample, syntheticTable } from '../src/internal.js';
import { leafIndex, resolveParams, train } from '../src/index.js';

describe('binning', () => {
  it('sorts a sample as Float64Array#sort does (-0 before +0, infinities, subnormals), NaN left out', () => {
    const specials = [0, -0, 1, -1, Infinity, -Infinity, NaN, 5e-324, -5e-324, 1e-310, 2.5, 2.5, -7];
    let x = 7;
    const sample = Float64Array.from({ length: 5000 }, (_, i) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return i % 3 === 0 ? (specials[x % specials.length] as number) : (x / 2 ** 32 - 0.5) * 1e6;
    });
    const order = new Int32Array(sample.length);
    const sorted = sortedSample(sample, order);
    const expected = sample.filter((v) => !Number.isNaN(v)).sort();
    assert.equal(sorted.length, expected.length);
    for (let i = 0; i < expected.length; i++) {
      assert.ok(Object.is(sorted[i], expected[i]), `position ${i}: ${sorted[i]} vs ${expected[i]}`);
      assert.ok(Object.is(sample[order[i]!], sorted[i]), `order ${i}`);
    }
  });

  it('bins every training row as its raw value routes: leaf counts from training equal counts by prediction', () => {
    const table = syntheticTable(30000, 8, 17);
    // Ties, signed zeros and an integer column beside the table's continuous values and NaNs.
    for (let r = 0; r < 30000; r++) {
      table.features.values[r * 8 + 1] =
        r % 7 === 0 ? -0 : r % 5 === 0 ? 0 : Math.round(table.features.values[r * 8 + 1]! * 4);
      table.features.values[r * 8 + 3] = (r * 7919) % 13;
    }
    for (const threads of [1, 2]) {
      const { booster } = train(
        table,
        resolveParams({ num_iterations: 3, num_leaves: 63, min_data_in_leaf: 5, num_threads: threads }),
      );
      for (const tree of booster.trees) {
        const counts = new Float64Array(tree.numLeaves);
        for (let r = 0; r < 30000; r++) counts[leafIndex(tree, table.features.values, r * 8)]! += 1;
        assert.deepEqual(Array.from(counts), Array.from(tree.leafCount), `${threads} threads`);
      }
    }
  });
});
