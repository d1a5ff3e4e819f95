import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { hardVote, InvalidArgumentError, meanLogits, softmaxFloat32, softVote } from '@kzr/core';

describe('hard voting with probability', () => {
  it('takes the mode and the best probability among its voters', () => {
    const vote = hardVote([
      { code: 'U+3042', prob: 0.6 },
      { code: 'U+3044', prob: 0.99 },
      { code: 'U+3042', prob: 0.8 },
      { code: 'U+3042', prob: 0.7 },
      { code: 'U+3046', prob: 0.9 },
    ]);
    assert.deepEqual(vote, { code: 'U+3042', prob: 0.8 });
  });

  it('breaks a 2-2-1 tie by the smaller code string, not the smaller code point', () => {
    const vote = hardVote([
      { code: 'U+3042', prob: 0.9 },
      { code: 'U+2000B', prob: 0.3 },
      { code: 'U+3042', prob: 0.95 },
      { code: 'U+2000B', prob: 0.4 },
      { code: 'U+0031', prob: 0.99 },
    ]);
    assert.deepEqual(vote, { code: 'U+2000B', prob: 0.4 });
  });

  it('takes the most confident model when all disagree, a tie going to the later model', () => {
    const votes = [
      { code: 'U+3042', prob: 0.5 },
      { code: 'U+3044', prob: 0.7 },
      { code: 'U+3046', prob: 0.7 },
      { code: 'U+3048', prob: 0.2 },
      { code: 'U+304A', prob: 0.6 },
    ];
    assert.deepEqual(hardVote(votes), { code: 'U+3046', prob: 0.7 });
    assert.throws(() => hardVote([]), InvalidArgumentError);
  });
});

describe('soft voting', () => {
  it('sums logits before the softmax', () => {
    // Model 1 prefers class 0 mildly, model 2 prefers class 1 strongly: the sum picks 1.
    const result = softVote([
      [2, 1, 0],
      [0, 4, 0],
    ]);
    assert.equal(result.index, 1);
    assert.deepEqual([...result.logits], [2, 5, 0]);
    const e = [Math.exp(2 - 5), 1, Math.exp(-5)];
    assert.ok(Math.abs(result.prob - 1 / (e[0]! + e[1]! + e[2]!)) < 1e-6);
  });

  it('saturates to exactly 1 in float32 for a large summed margin, as upstream', () => {
    const logits = Array.from({ length: 5 }, () => Array.from({ length: 4212 }, (_, i) => (i === 7 ? 20 : 0)));
    const result = softVote(logits);
    assert.equal(result.index, 7);
    assert.equal(result.prob, 1);
    const mild = softVote([[1, 0]]);
    assert.ok(mild.prob < 1);
  });

  it('rejects ragged or empty input and normalises to 1', () => {
    assert.throws(() => softVote([]), InvalidArgumentError);
    assert.throws(() => softVote([[1, 2], [1]]), InvalidArgumentError);
    const p = softmaxFloat32([1, 2, 3, 4]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  });
});

describe('mean of TTA logits', () => {
  it('averages the views element-wise and rejects ragged views', () => {
    assert.deepEqual(
      [
        ...meanLogits([
          [1, 2],
          [3, 6],
        ]),
      ],
      [2, 4],
    );
    assert.throws(() => meanLogits([[1, 2], [3]]), InvalidArgumentError);
    assert.throws(() => meanLogits([]), InvalidArgumentError);
  });
});
