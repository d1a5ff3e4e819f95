// False-positive features near linear in the boxes of a page (issue 22, finding 5): the overlap and
// the 5 nearest neighbours come from grids now; the plain double loop they replaced is kept here,
// only as the reference the grids must equal, value for value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { FP_FEATURE_COUNT, FP_FEATURE_NAMES, falsePositiveFeatures, pyRound } from '@kzr/core/postprocess';
import type { ClassifiedBox, ClassifiedPage } from '@kzr/core/postprocess';

const column = (name: string): number => {
  const at = FP_FEATURE_NAMES.indexOf(name);
  assert.ok(at >= 0, name);
  return at;
};
const overlapCol = column('overlap_rate');
const ownSizeCols = [column('width_page_rate'), column('area_median_rate') + 1] as const;
const nbSizeCol = (k: number): number => column(`nb${k}_width_page_rate`);
const nbDistCol = (k: number): number => column(`nb${k}_dist_page_w_rate`);
const nbAngleCol = (k: number): number => column(`nb${k}_angle`);

/** The double loop of the first implementation: overlap and the 5 nearest of box `i`. */
function reference(page: ClassifiedPage, i: number): { overlap: number; nearest: { j: number; d: number }[] } {
  const boxes = page.boxes;
  const centre = (b: ClassifiedBox): [number, number] => [pyRound(b.x + b.width / 2), pyRound(b.y + b.height / 2)];
  const b = boxes[i]!;
  const area = pyRound(b.width) * pyRound(b.height);
  let overlap = 0;
  for (let j = 0; j < boxes.length; j++) {
    if (j === i) continue;
    const o = boxes[j]!;
    const iw = Math.min(b.x + b.width, o.x + o.width) - Math.max(b.x, o.x);
    const ih = Math.min(b.y + b.height, o.y + o.height) - Math.max(b.y, o.y);
    if (iw >= 0 && ih >= 0) overlap += area === 0 ? 0 : (iw * ih) / area;
  }
  const [xi, yi] = centre(b);
  const others: { j: number; d: number }[] = [];
  for (let j = 0; j < boxes.length; j++) {
    if (j === i) continue;
    const [xj, yj] = centre(boxes[j]!);
    others.push({ j, d: Math.hypot(xj - xi, yj - yi) });
  }
  others.sort((a, c) => a.d - c.d || a.j - c.j);
  return { overlap, nearest: others.slice(0, 5) };
}

/** Asserts that the features of `page` equal what the double loop gives, value for value (NaN too). */
function assertSameAsDoubleLoop(page: ClassifiedPage): void {
  const rows = falsePositiveFeatures(page);
  const F = FP_FEATURE_COUNT;
  const [c0, c1] = ownSizeCols;
  page.boxes.forEach((_, i) => {
    const row = rows.subarray(i * F, (i + 1) * F);
    const { overlap, nearest } = reference(page, i);
    assert.ok(Object.is(row[overlapCol], overlap), `box ${i}: overlap ${row[overlapCol]} != ${overlap}`);
    for (let k = 1; k <= 5; k++) {
      const nb = nearest[k - 1];
      const own = nb === undefined ? undefined : rows.subarray(nb.j * F + c0, nb.j * F + c1);
      const got = row.subarray(nbSizeCol(k), nbSizeCol(k) + (c1 - c0));
      assert.deepEqual([...got], own === undefined ? new Array(c1 - c0).fill(NaN) : [...own], `box ${i} nb${k}`);
      const dist = [row[nbDistCol(k)], row[nbDistCol(k) + 1]];
      assert.deepEqual(dist, nb === undefined ? [NaN, NaN] : [nb.d / page.width, nb.d / page.height]);
      if (nb !== undefined) {
        const [xi, yi] = [
          pyRound(page.boxes[i]!.x + page.boxes[i]!.width / 2),
          pyRound(page.boxes[i]!.y + page.boxes[i]!.height / 2),
        ];
        const o = page.boxes[nb.j]!;
        const expected = Math.atan2(pyRound(o.y + o.height / 2) - yi, pyRound(o.x + o.width / 2) - xi);
        assert.ok(Object.is(row[nbAngleCol(k)], expected), `box ${i} nb${k} angle`);
      }
    }
  });
}

const box = (x: number, y: number, width: number, height: number): ClassifiedBox => ({
  code: 'U+3042',
  probability: 0.5,
  score: 0.9,
  x,
  y,
  width,
  height,
});

/** Boxes on a coarse lattice (so they touch, overlap, repeat and tie) or anywhere, halves included. */
const boxArb = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 12 }),
    )
    .map(([x, y, w, h]) => box(x, y, w, h)),
  fc
    .tuple(
      fc.integer({ min: 0, max: 800 }),
      fc.integer({ min: 0, max: 800 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 60 }),
    )
    .map(([x, y, w, h]) => box(x / 2, y / 2, w / 2, h / 2)),
  // A box over most of the page: compared with every box, not through the grid.
  fc.constant(box(0, 0, 390, 390)),
);

describe('false-positive features at scale', () => {
  it('equal the double loop on random pages (overlap and the 5 nearest, ties by index)', () => {
    fc.assert(
      fc.property(fc.array(boxArb, { maxLength: 60 }), (boxes) => {
        assertSameAsDoubleLoop({ pageId: 'p', width: 400, height: 400, boxes });
      }),
      { numRuns: 150, seed: 22 },
    );
  });

  it('equal the double loop on spread-out and piled-up pages', () => {
    const spread = Array.from({ length: 300 }, (_, i) => box((i * 7919) % 5000, (i * 104729) % 7000, 20 + (i % 9), 25));
    assertSameAsDoubleLoop({ pageId: 'p', width: 5000, height: 7000, boxes: spread });
    const piled = Array.from({ length: 40 }, (_, i) => box(10 + (i % 3), 10, 5, 5));
    assertSameAsDoubleLoop({ pageId: 'p', width: 100, height: 100, boxes: piled });
    const huge = [box(-1e308, 0, 1, 1), box(1e308, 0, 1, 1), box(0, 0, 2, 2), box(1, 1, 2, 2)];
    assertSameAsDoubleLoop({ pageId: 'p', width: 100, height: 100, boxes: huge });
  });

  it('computes 50,000 characters of one page in under 5 s', () => {
    const page = (columns: number): ClassifiedPage => {
      // Columns of 400 characters of about 20 x 20 pixels, slightly irregular.
      const boxes: ClassifiedBox[] = [];
      for (let c = 0; c < columns; c++) {
        for (let r = 0; r < 400; r++) {
          const k = c * 400 + r;
          boxes.push(box(c * 40 + (k % 7), r * 22 + ((k * 13) % 5), 18 + (k % 5), 19 + ((k * 3) % 4)));
        }
      }
      return { pageId: 'p', width: columns * 40 + 10, height: 8800, boxes };
    };
    // 4,000 first, so the quadratic loop (6.6 s there) fails in seconds rather than minutes.
    const small = page(10);
    let t0 = performance.now();
    falsePositiveFeatures(small);
    assert.ok(performance.now() - t0 < 1000, `4,000 boxes: ${(performance.now() - t0).toFixed(0)} ms`);
    const { boxes } = page(125);
    t0 = performance.now();
    const rows = falsePositiveFeatures({ pageId: 'p', width: 5010, height: 8800, boxes });
    const ms = performance.now() - t0;
    assert.equal(rows.length, 50_000 * FP_FEATURE_COUNT);
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
    // Spot checks against the double loop on a few boxes of the big page.
    for (const i of [0, 399, 20_000, 49_999]) {
      const { overlap, nearest } = reference({ pageId: 'p', width: 5010, height: 8800, boxes }, i);
      assert.ok(Object.is(rows[i * FP_FEATURE_COUNT + overlapCol], overlap));
      assert.equal(rows[i * FP_FEATURE_COUNT + nbDistCol(5)], nearest[4]!.d / 5010);
    }
  });
});
