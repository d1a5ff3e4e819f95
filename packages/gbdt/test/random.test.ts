import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { LgbRandom, lcgSkip } from '../src/internal.js';

describe("LightGBM's generator", () => {
  it('skips ahead exactly as many draws would (the training shards draw their rows from the same stream)', () => {
    for (const seed of [0, 1, 3, 0x7fffffff, 0xffffffff]) {
      const drawn = new LgbRandom(seed);
      let draws = 0;
      for (const n of [0, 1, 2, 7, 1000, 65_537, 100_003]) {
        while (draws < n) {
          drawn.nextFloat();
          draws++;
        }
        const skipped = new LgbRandom(seed);
        skipped.skip(n);
        assert.equal(skipped.state, drawn.state, `seed ${seed}, ${n} draws`);
        assert.equal(lcgSkip(seed, n), drawn.state);
        assert.equal(skipped.nextFloat(), new LgbRandom(drawn.state).nextFloat());
      }
    }
  });
});
