import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createRng, iou, nms, type Box } from '@kzr/core';

describe('iou', () => {
  it('uses the +1 pixel convention', () => {
    const a = { x: 0, y: 0, width: 9, height: 9 };
    assert.equal(iou(a, a), 1);
    // Each spans 10 x 10 pixels; they share columns 5..9: 50 of 150.
    assert.equal(iou(a, { x: 5, y: 0, width: 9, height: 9 }), 50 / 150);
    // Touching edges share one pixel column under +1.
    assert.equal(
      iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 10, y: 0, width: 10, height: 10 }),
      11 / (121 + 121 - 11),
    );
    assert.equal(iou(a, { x: 11, y: 0, width: 5, height: 5 }), 0);
  });

  it('is symmetric and in [0, 1] on random boxes', () => {
    const rng = createRng(11);
    const box = (): Box => ({ x: rng.int(100), y: rng.int(100), width: rng.int(60), height: rng.int(60) });
    for (let i = 0; i < 500; i++) {
      const a = box();
      const b = box();
      const v = iou(a, b);
      assert.equal(v, iou(b, a));
      assert.ok(v >= 0 && v <= 1);
    }
  });
});

describe('nms', () => {
  const boxes = [
    { x: 0, y: 0, width: 10, height: 10, score: 0.5 },
    { x: 1, y: 0, width: 10, height: 10, score: 0.9 },
    { x: 50, y: 50, width: 10, height: 10, score: 0.1 },
  ];

  it('keeps the best of overlapping boxes and returns indices in input order', () => {
    assert.deepEqual(nms(boxes, { iouThreshold: 0.3, score: (b) => b.score }), [1, 2]);
    // Keyed by another score, the other box of the pair survives.
    assert.deepEqual(nms(boxes, { iouThreshold: 0.3, score: (b) => -b.score }), [0, 2]);
  });

  it('breaks score ties by input order and suppresses only above the threshold', () => {
    const same = [
      { x: 0, y: 0, width: 10, height: 10 },
      { x: 0, y: 0, width: 10, height: 10 },
    ];
    assert.deepEqual(nms(same, { iouThreshold: 0.3, score: () => 1 }), [0]);
    assert.deepEqual(nms(same, { iouThreshold: 1, score: () => 1 }), [0, 1]);
    const half = [
      { x: 0, y: 0, width: 9, height: 9 },
      { x: 5, y: 0, width: 9, height: 9 },
    ];
    const exact = iou(half[0]!, half[1]!);
    assert.deepEqual(nms(half, { iouThreshold: exact, score: () => 1 }), [0, 1]);
    assert.deepEqual(nms(half, { iouThreshold: exact - 1e-9, score: () => 1 }), [0]);
  });

  it('lets only kept boxes suppress (a suppressed box does not go on suppressing)', () => {
    // A overlaps B, B overlaps C, A does not overlap C. A > B > C: B falls, so C stays.
    const chain = [
      { x: 0, y: 0, width: 10, height: 10, p: 0.9 },
      { x: 6, y: 0, width: 10, height: 10, p: 0.8 },
      { x: 12, y: 0, width: 10, height: 10, p: 0.7 },
    ];
    assert.ok(iou(chain[0]!, chain[2]!) < 0.1);
    assert.deepEqual(nms(chain, { iouThreshold: 0.1, score: (b) => b.p }), [0, 2]);
  });

  it('reads boxes through an accessor', () => {
    const items = [
      { box: { x: 0, y: 0, width: 10, height: 10 }, p: 0.2 },
      { box: { x: 0, y: 0, width: 10, height: 10 }, p: 0.4 },
    ];
    assert.deepEqual(nms(items, { iouThreshold: 0.5, score: (i) => i.p, box: (i) => i.box }), [1]);
  });
});
