import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createRng,
  f1FromCounts,
  InvalidArgumentError,
  matchPage,
  scoreSubmission,
  type CharLabel,
  type CharPoint,
  type PageLabels,
  type PagePredictions,
  type Rng,
} from '@kzr/core';

const box = (code: string, x: number, y: number, width: number, height: number): CharLabel => ({
  code,
  x,
  y,
  width,
  height,
});
const point = (code: string, x: number, y: number): CharPoint => ({ code, x, y });

describe('Kaggle F1, per rule of spec §6.3', () => {
  it('counts nothing for an empty truth and an empty prediction', () => {
    assert.deepEqual(scoreSubmission([{ pageId: 'a_1', labels: [] }], [{ pageId: 'a_1', points: [] }]), {
      f1: 0,
      precision: 0,
      recall: 0,
      tp: 0,
      fp: 0,
      fn: 0,
    });
  });

  it('counts every prediction on an empty truth page as a false positive', () => {
    const s = scoreSubmission(
      [{ pageId: 'a_1', labels: [] }],
      [{ pageId: 'a_1', points: [point('U+3042', 5, 5), point('U+3044', 6, 6)] }],
    );
    assert.deepEqual([s.tp, s.fp, s.fn, s.f1], [0, 2, 0, 0]);
  });

  it('counts every truth as a false negative on an empty or missing prediction', () => {
    const truth = [
      { pageId: 'a_1', labels: [box('U+3042', 0, 0, 10, 10)] },
      { pageId: 'a_2', labels: [box('U+3042', 0, 0, 10, 10), box('U+3044', 20, 0, 10, 10)] },
    ];
    const s = scoreSubmission(truth, [{ pageId: 'a_1', points: [] }]);
    assert.deepEqual([s.tp, s.fp, s.fn, s.f1, s.recall], [0, 0, 3, 0, 0]);
  });

  it('matches two predictions in one box once: one TP, one FP', () => {
    const m = matchPage([box('U+3042', 0, 0, 10, 10)], [point('U+3042', 5, 5), point('U+3042', 4, 4)]);
    assert.deepEqual([m.tp, m.fp, m.fn], [1, 1, 0]);
    // The first unused one is taken.
    assert.deepEqual(m.truthMatch, [0]);
    assert.deepEqual(m.predictionUsed, [true, false]);
  });

  it('gives the second of two boxes sharing a prediction the next unused one', () => {
    const truth = [box('U+3042', 0, 0, 10, 10), box('U+3042', 2, 2, 10, 10)];
    const m = matchPage(truth, [point('U+3042', 5, 5), point('U+3042', 6, 6)]);
    assert.deepEqual(m.truthMatch, [0, 1]);
    const alone = matchPage(truth, [point('U+3042', 5, 5)]);
    assert.deepEqual([alone.tp, alone.fn], [1, 1]);
  });

  it('does not match a centre on an edge (strictly inside only)', () => {
    const truth = [box('U+3042', 10, 20, 10, 10)];
    for (const [x, y] of [
      [10, 25],
      [20, 25],
      [15, 20],
      [15, 30],
    ] as const) {
      const m = matchPage(truth, [point('U+3042', x, y)]);
      assert.deepEqual([m.tp, m.fp, m.fn], [0, 1, 1], `centre (${x}, ${y})`);
    }
    assert.equal(matchPage(truth, [point('U+3042', 10.5, 29.5)]).tp, 1);
  });

  it('needs the same code', () => {
    const m = matchPage([box('U+3042', 0, 0, 10, 10)], [point('U+3044', 5, 5)]);
    assert.deepEqual([m.tp, m.fp, m.fn], [0, 1, 1]);
  });

  it('sums counts over pages before computing F1 and ignores pages absent from the truth', () => {
    const truth: PageLabels[] = [
      { pageId: 'a_1', labels: [box('U+3042', 0, 0, 10, 10), box('U+3044', 20, 0, 10, 10)] },
      { pageId: 'a_2', labels: [box('U+3046', 0, 0, 10, 10)] },
    ];
    const pred: PagePredictions[] = [
      { pageId: 'a_1', points: [point('U+3042', 5, 5), point('U+3044', 5, 5)] },
      { pageId: 'a_2', points: [point('U+3046', 5, 5)] },
      { pageId: 'zz_9', points: [point('U+3046', 5, 5), point('U+3046', 6, 6)] },
    ];
    const s = scoreSubmission(truth, pred);
    assert.deepEqual([s.tp, s.fp, s.fn], [2, 1, 1]);
    assert.equal(s.precision, 2 / 3);
    assert.equal(s.recall, 2 / 3);
    assert.ok(Math.abs(s.f1 - 2 / 3) < 1e-12);
    assert.throws(() => scoreSubmission(truth, [pred[0]!, pred[0]!]), InvalidArgumentError);
  });

  it('computes F1 from counts with zero guards', () => {
    assert.equal(f1FromCounts(0, 0, 0).f1, 0);
    assert.equal(f1FromCounts(0, 3, 4).f1, 0);
    assert.equal(f1FromCounts(3, 0, 0).f1, 1);
    assert.equal(f1FromCounts(3, 1, 2).f1, (2 * 0.75 * 0.6) / 1.35);
  });
});

/**
 * An independent reference in the style of the Kaggle notebook: arrays per page, a boolean
 * mask per truth over all predictions, the first true index taken.
 */
function referenceScore(truth: PageLabels[], pred: PagePredictions[]): { tp: number; fp: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const predById: Record<string, PagePredictions> = {};
  for (const p of pred) predById[p.pageId] = p;
  for (const page of truth) {
    const preds = predById[page.pageId]?.points ?? [];
    const used = preds.map(() => false);
    const labels = preds.map((p) => p.code);
    const xs = preds.map((p) => p.x);
    const ys = preds.map((p) => p.y);
    for (const t of page.labels) {
      const mask = preds.map(
        (_, k) =>
          labels[k] === t.code &&
          xs[k]! > t.x &&
          xs[k]! < t.x + t.width &&
          ys[k]! > t.y &&
          ys[k]! < t.y + t.height &&
          !used[k],
      );
      const first = mask.indexOf(true);
      if (first >= 0) {
        used[first] = true;
        tp += 1;
      } else fn += 1;
    }
    fp += used.filter((u) => !u).length;
  }
  return { tp, fp, fn };
}

function randomPages(rng: Rng): { truth: PageLabels[]; pred: PagePredictions[] } {
  const codes = ['U+3042', 'U+3044', 'U+3046'];
  const truth: PageLabels[] = [];
  const pred: PagePredictions[] = [];
  const pages = rng.intBetween(0, 6);
  for (let p = 0; p < pages; p++) {
    const pageId = `b_${p}`;
    const labels = Array.from({ length: rng.intBetween(0, 12) }, () =>
      box(codes[rng.int(3)]!, rng.int(40), rng.int(40), rng.intBetween(1, 15), rng.intBetween(1, 15)),
    );
    truth.push({ pageId, labels });
    if (rng.next() < 0.85) {
      // Points on a small grid, so centres often land exactly on edges and in several boxes.
      const points = Array.from({ length: rng.intBetween(0, 14) }, () =>
        point(codes[rng.int(3)]!, rng.int(56), rng.int(56)),
      );
      pred.push({ pageId, points });
    }
  }
  if (rng.next() < 0.3) pred.push({ pageId: 'c_1', points: [point('U+3042', 1, 1)] });
  rng.shuffle(pred);
  return { truth, pred };
}

describe('Kaggle F1 against an independent reference', () => {
  it('agrees on 2000 random submissions', () => {
    const rng = createRng(2019);
    let matched = 0;
    for (let run = 0; run < 2000; run++) {
      const { truth, pred } = randomPages(rng);
      const expected = referenceScore(truth, pred);
      const actual = scoreSubmission(truth, pred);
      assert.deepEqual({ tp: actual.tp, fp: actual.fp, fn: actual.fn }, expected, `run ${run}`);
      matched += actual.tp;
    }
    assert.ok(matched > 1000, `only ${matched} true positives: the random pages are too sparse to test matching`);
  });
});
