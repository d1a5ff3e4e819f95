import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ClassRule,
  cropsFromLabels,
  InvalidArgumentError,
  oversample,
  pageIdOfCropPath,
  splitByBook,
  SplitBook,
  undersampleForEpoch,
  type CropEntry,
  type PageLabels,
} from '@kzr/core';

/** `count` crops of `code` spread over pages of `book` (5 characters per page). */
function crops(code: string, book: string, count: number, offset = 0): CropEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    code,
    path: `crops/${code}/${book}_${String(offset + Math.floor(i / 5)).padStart(5, '0')}_1_${i % 5}.png`,
  }));
}

function countBy(rows: readonly CropEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.code] = (out[r.code] ?? 0) + 1;
  return out;
}

const val = SplitBook.A;
const other = '100241706';

const input = [
  ...crops('U+3042', other, 300),
  ...crops('U+3042', val, 40), // on both sides
  ...crops('U+3044', other, 210), // train only, 210 -> move 20 to val
  ...crops('U+3046', other, 209), // train only, 209 -> copy all into val
  ...crops('U+3048', val, 230), // val only, 230 -> move 20 to train
  ...crops('U+304A', val, 3), // val only, 3 -> copy all into train
  ...crops('U+304B', other, 1), // train only, 1 crop -> copied, oversampled to 101 / 21
];

describe('book-title split', () => {
  it('reads the page id and book from a crop path', () => {
    assert.equal(pageIdOfCropPath('input/crops/U+3042/100241706_00004_2_17.png'), '100241706_00004_2');
    assert.equal(pageIdOfCropPath('brsk001-002_3.png'), 'brsk001-002');
    assert.equal(pageIdOfCropPath('no-index.png'), undefined);
  });

  it('applies the per-class rules of spec §1.3', () => {
    const split = splitByBook(input, { valBook: val, seed: 1 });
    assert.deepEqual(split.rules, {
      'U+3042': ClassRule.Kept,
      'U+3044': ClassRule.MovedToVal,
      'U+3046': ClassRule.CopiedToVal,
      'U+3048': ClassRule.MovedToTrain,
      'U+304A': ClassRule.CopiedToTrain,
      'U+304B': ClassRule.CopiedToVal,
    });
    const held = countBy(split.heldOut);
    assert.deepEqual(held, { 'U+3042': 40, 'U+3044': 20, 'U+3048': 210 });
    // Moved crops leave their side.
    const heldPaths = new Set(split.heldOut.map((c) => c.path));
    assert.ok(
      split.train.every((c) => !heldPaths.has(c.path)),
      'a held-out crop is also in train',
    );
    // Oversampling: train below 100 gets floor(100 / c) extra copies, val below 20 floor(20 / c).
    assert.deepEqual(countBy(split.train), {
      'U+3042': 300,
      'U+3044': 190,
      'U+3046': 209,
      'U+3048': 20 * (1 + 5),
      'U+304A': 3 * (1 + 33),
      'U+304B': 101,
    });
    assert.deepEqual(countBy(split.val), {
      'U+3042': 40,
      'U+3044': 20,
      'U+3046': 209,
      'U+3048': 210,
      'U+304A': 3 * (1 + 6),
      'U+304B': 21,
    });
  });

  it('is repeatable for a seed and draws other crops for another seed', () => {
    const a = splitByBook(input, { valBook: val, seed: 1 });
    const b = splitByBook(input, { valBook: val, seed: 1 });
    const c = splitByBook(input, { valBook: val, seed: 2 });
    assert.deepEqual(a, b);
    const moved = (s: typeof a): string[] => s.heldOut.filter((x) => x.code === 'U+3044').map((x) => x.path);
    assert.notDeepEqual(moved(a), moved(c));
  });

  it('builds the crop list from labels and splits by book, refusing pages without a book', () => {
    const pages: PageLabels[] = [
      { pageId: `${val}_00001_1`, labels: [{ code: 'U+3042', x: 0, y: 0, width: 5, height: 5 }] },
      { pageId: 'brsk001-002', labels: [{ code: 'U+3042', x: 0, y: 0, width: 5, height: 5 }] },
    ];
    const list = cropsFromLabels(pages, (code, pageId, k) => `crops/${code}/${pageId}_${k}.png`);
    assert.deepEqual(list[0], { code: 'U+3042', path: `crops/U+3042/${val}_00001_1_0.png` });
    const split = splitByBook(list, { valBook: val, seed: 0 });
    assert.equal(split.heldOut.length, 1);
    assert.equal(split.heldOut[0]!.path, list[0]!.path);
    assert.throws(
      () => splitByBook([{ code: 'U+3042', path: 'crops/U+3042/test_3a49bd0a_0.png' }], { valBook: val, seed: 0 }),
      (err: unknown) => err instanceof InvalidArgumentError && err.field === 'crops[0].path',
    );
    assert.throws(() => splitByBook(list, { valBook: '999', seed: 0 }), InvalidArgumentError);
  });
});

describe('oversampling', () => {
  it('gives c x (1 + floor(100 / c)) rows below 100 (spec examples)', () => {
    const rows = [...crops('U+3042', other, 1), ...crops('U+3044', other, 34), ...crops('U+3046', other, 100)];
    assert.deepEqual(countBy(oversample(rows, 100)), { 'U+3042': 101, 'U+3044': 102, 'U+3046': 100 });
  });
});

describe('undersampling per epoch', () => {
  const rows = [...crops('U+3042', other, 2500), ...crops('U+3044', other, 30)];

  it('cuts large classes to exactly 2000 and keeps small ones and the row order', () => {
    const epoch0 = undersampleForEpoch(rows, { seed: 9, epoch: 0 });
    assert.deepEqual(countBy(epoch0), { 'U+3042': 2000, 'U+3044': 30 });
    const position = new Map(rows.map((r, i) => [r, i]));
    for (let i = 1; i < epoch0.length; i++) assert.ok(position.get(epoch0[i - 1]!)! < position.get(epoch0[i]!)!);
  });

  it('redraws each epoch and repeats for the same seed and epoch', () => {
    const e0 = undersampleForEpoch(rows, { seed: 9, epoch: 0 });
    const e0again = undersampleForEpoch(rows, { seed: 9, epoch: 0 });
    const e1 = undersampleForEpoch(rows, { seed: 9, epoch: 1 });
    assert.deepEqual(e0, e0again);
    assert.notDeepEqual(e0, e1);
    assert.equal(undersampleForEpoch(rows, { seed: 9, epoch: 1, maxPerClass: 10 }).length, 20);
    assert.throws(() => undersampleForEpoch(rows, { seed: 9, epoch: -1 }), InvalidArgumentError);
  });
});
