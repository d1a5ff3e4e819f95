import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  falsePositiveFeatures,
  falsePositiveLabels,
  FP_FEATURE_COUNT,
  FP_FEATURE_NAMES,
  keepBoxes,
  mergeDetectionSets,
  pyRound,
  submissionRows,
  tuneThreshold,
  type ClassifiedBox,
  type ClassifiedPage,
} from '../../src/postprocess/index.js';

const box = (
  x: number,
  y: number,
  width: number,
  height: number,
  probability: number,
  code = 'U+4E00',
  score = 0.9,
): ClassifiedBox => ({
  code,
  probability,
  score,
  x,
  y,
  width,
  height,
});

describe('mergeDetectionSets', () => {
  it('drops the less probable of two boxes with +1 IoU above 0.30, across sets, keeping concatenated order', () => {
    const a1 = box(0, 0, 10, 10, 0.9);
    const a2 = box(100, 0, 10, 10, 0.4);
    const b1 = box(2, 0, 10, 10, 0.8); // IoU(a1) = 99 / 143 = 0.69: dropped, a1 is more probable
    const b2 = box(104, 0, 10, 10, 0.7); // IoU(a2) = 77 / 165 = 0.47: a2 dropped, b2 is more probable
    const b3 = box(7, 0, 10, 10, 0.95); // IoU(a1) = 44 / 198 = 0.22 (kept together), IoU(b1) = 66 / 176 = 0.375
    const merged = mergeDetectionSets([
      [a1, a2],
      [b1, b2, b3],
    ]);
    // b3 (0.95) is ranked first and suppresses b1 (IoU 0.47); a1 survives (IoU 0.22 with b3).
    assert.deepEqual(merged, [a1, b2, b3]);
  });

  it('keeps everything when no pair overlaps above the threshold, and names a malformed box', () => {
    const far = [box(0, 0, 10, 10, 0.5), box(50, 0, 10, 10, 0.5)];
    assert.deepEqual(mergeDetectionSets([far, []]), far);
    assert.throws(() => mergeDetectionSets([[box(0, 0, -1, 10, 0.5)]]), /sets\[0\]\[0\]\.width: expected >= 0/);
    assert.throws(() => mergeDetectionSets([[{ ...box(0, 0, 1, 1, 0.5), code: 'x' }]]), /sets\[0\]\[0\]\.code/);
  });
});

describe('falsePositiveFeatures', () => {
  const page: ClassifiedPage = {
    pageId: 'p_1',
    width: 100,
    height: 200,
    boxes: [
      box(10, 10, 10, 20, 0.9, 'U+3042', 0.8), // centre (15, 20), area 200
      box(15, 20, 10, 10, 0.5, 'U+4E00', 0.6), // centre (20, 25), area 100
      box(50, 100, 20, 40, 0.3, 'U+304B', 0.2), // centre (60, 120), area 800
    ],
  };
  const rows = falsePositiveFeatures(page);
  const f = (i: number, name: string): number => {
    const c = FP_FEATURE_NAMES.indexOf(name);
    assert.ok(c >= 0, name);
    return rows[i * FP_FEATURE_COUNT + c]!;
  };
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

  it('has 117 uniquely named features per box', () => {
    assert.equal(FP_FEATURE_COUNT, 117);
    assert.equal(new Set(FP_FEATURE_NAMES).size, 117);
    assert.equal(rows.length, 3 * 117);
  });

  it('computes the box, page and overlap features worked out by hand', () => {
    assert.equal(f(0, 'char_score'), 0.9);
    assert.equal(f(0, 'is_hiragana'), 1);
    assert.equal(f(1, 'is_hiragana'), 0);
    assert.equal(f(0, 'bbox_score'), 0.8);
    close(f(0, 'overlap_rate'), 50 / 200);
    close(f(1, 'overlap_rate'), 50 / 100);
    assert.equal(f(2, 'overlap_rate'), 0);
    close(f(0, 'width_page_rate'), 10 / 100);
    close(f(0, 'width_mean_rate'), 10 / (40 / 3));
    close(f(0, 'width_std_rate'), 10 / Math.sqrt(100 / 3));
    close(f(0, 'width_median_rate'), 1);
    close(f(2, 'height_page_rate'), 40 / 200);
    close(f(0, 'area_page_rate'), 200 / (100 * 200));
    close(f(2, 'area_median_rate'), 800 / 200);
    close(f(0, 'x_mean_xrate'), 15 / (95 / 3));
    close(f(2, 'y_page_rate'), 120 / 200);
    close(f(1, 'width_mean'), 40 / 3);
    close(f(1, 'y_median'), 25);
    assert.equal(f(1, 'box_num'), 3);
  });

  it('describes the nearest other boxes in distance order and gives NaN for missing neighbours', () => {
    // Box 0: nearest is box 1 at (5, 5), then box 2 at (45, 100).
    close(f(0, 'nb1_width_page_rate'), 10 / 100);
    close(f(0, 'nb1_height_page_rate'), 10 / 200); // divided by the page height (upstream bug fixed)
    close(f(0, 'nb1_area_page_rate'), 100 / (100 * 200));
    close(f(0, 'nb1_dist_page_w_rate'), Math.hypot(5, 5) / 100);
    close(f(0, 'nb1_dist_page_h_rate'), Math.hypot(5, 5) / 200);
    close(f(0, 'nb1_angle'), Math.PI / 4);
    close(f(0, 'nb2_area_page_rate'), 800 / 20000);
    close(f(0, 'nb2_angle'), Math.atan2(100, 45));
    close(f(2, 'nb1_width_page_rate'), 10 / 100); // box 2's nearest is box 1 (d = 103.08 < 109.66)
    assert.ok(Number.isNaN(f(0, 'nb3_width_page_rate')));
    assert.ok(Number.isNaN(f(0, 'nb5_angle')));
  });

  it('guards zero denominators with 0 (single box, equal sizes)', () => {
    const single = falsePositiveFeatures({ pageId: 'p_2', width: 50, height: 50, boxes: [box(0, 0, 5, 5, 0.5)] });
    const c = (name: string): number => single[FP_FEATURE_NAMES.indexOf(name)]!;
    assert.equal(c('width_std_rate'), 0);
    assert.equal(c('area_std_rate'), 0);
    assert.equal(c('x_std_xrate'), 0);
    assert.equal(c('width_std'), 0);
    assert.equal(c('overlap_rate'), 0);
    assert.ok(Number.isNaN(c('nb1_angle')));
    const zero = falsePositiveFeatures({
      pageId: 'p_3',
      width: 50,
      height: 50,
      boxes: [box(0, 0, 0, 0, 0.5), box(9, 9, 0, 0, 0.5)],
    });
    assert.equal(zero[FP_FEATURE_NAMES.indexOf('overlap_rate')], 0);
    assert.equal(zero[FP_FEATURE_NAMES.indexOf('area_mean_rate')], 0);
  });

  it('rounds like Python (halves to even) and rejects a bad page size naming it', () => {
    assert.deepEqual([2.5, 3.5, -2.5, 0.5, 1.4999, 7].map(pyRound), [2, 4, -2, 0, 1, 7]);
    assert.throws(() => falsePositiveFeatures({ pageId: 'p', width: 0, height: 5, boxes: [] }), /page\.width/);
  });
});

describe('labels, keep rule and submission rows', () => {
  const page: ClassifiedPage = {
    pageId: 'p_1',
    width: 100,
    height: 100,
    boxes: [box(10, 10, 10, 20, 0.9, 'U+3042'), box(40, 40, 10, 10, 0.9, 'U+3042'), box(12, 12, 5, 5, 0.4, 'U+3042')],
  };
  const truth = [{ code: 'U+3042', x: 8, y: 8, width: 14, height: 24 }];

  it('labels a box 1 iff the Kaggle matching uses its rounded centre', () => {
    // Box 0's centre (15, 20) is strictly inside the truth and comes first; box 2's (14.5 -> 14, 14.5 -> 14) is inside too but the truth is used.
    assert.deepEqual([...falsePositiveLabels(page, truth)], [1, 0, 0]);
  });

  it('keeps a box iff P(correct) >= threshold and writes rounded centres', () => {
    const kept = keepBoxes(page.boxes, [0.5, 0.49, 0.51]);
    assert.deepEqual(kept, [page.boxes[0], page.boxes[2]]);
    assert.deepEqual(submissionRows([{ ...page, boxes: kept }]), [
      {
        pageId: 'p_1',
        points: [
          { code: 'U+3042', x: 15, y: 20 },
          { code: 'U+3042', x: 14, y: 14 },
        ],
      },
    ]);
    assert.throws(() => keepBoxes(page.boxes, [0.5]), /pCorrect/);
  });

  it('tunes the threshold to the best F1 on validation pages', () => {
    // Scores that separate the correct box (0.8) from the false ones (0.3, 0.2): any threshold in (0.3, 0.8] is best.
    const { threshold, f1 } = tuneThreshold([page], [[0.8, 0.3, 0.2]], [truth]);
    assert.equal(f1, 1);
    assert.ok(threshold > 0.3 && threshold <= 0.8);
    assert.equal(threshold, 0.5, 'ties go to 0.5');
  });
});
