import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { decodeImage } from '@kzr/imaging';

import { type EpochMetrics } from '../src/train/checkpoint.js';
import { curveSvg, writeReports } from '../src/train/reports.js';
import { type CheckpointStorage } from '../src/train/storage.js';

const history: EpochMetrics[] = [1, 2, 3].map((epoch) => ({
  epoch,
  trainLoss: 3 / epoch,
  valTop1: 0.2 * epoch,
  ...(epoch === 3 ? { valTop1Tta: 0.65 } : {}),
  lr: 0.01,
  imagesPerSecond: 100,
  seconds: 1,
}));

describe('training curve', () => {
  it('labels both axes with units, has a legend and marks only measured epochs', () => {
    const svg = curveSvg(history);
    for (const text of [
      'epoch',
      'train loss (mean per batch)',
      'held-out top-1 (%)',
      'top-1, centre view',
      'top-1, TTA 7-crop',
    ]) {
      assert.ok(svg.includes(`>${text}</text>`), text);
    }
    // 3 loss + 3 centre + 1 TTA markers, plus one per legend entry; nothing at an epoch 0.
    assert.equal(svg.match(/<circle /g)?.length, 3 + 3 + 1 + 3);
    const ticks = [...svg.matchAll(/text-anchor="middle">(\d+)<\/text>/g)].map((m) => Number(m[1]));
    assert.deepEqual(ticks, [1, 2, 3]);
  });

  it('writes curve.png, metrics.jsonl and each crop’s predicted label', async () => {
    const files = new Map<string, Uint8Array>();
    const storage = { put: async (k: string, b: Uint8Array) => void files.set(k, b) } as unknown as CheckpointStorage;
    await writeReports(storage, history, ['U+3042', 'U+3044'], [0, 1, 1], Int32Array.from([0, 0, 1]));
    const png = await decodeImage(files.get('curve.png')!);
    assert.equal(png.width, 640);
    const predictions = JSON.parse(new TextDecoder().decode(files.get('val-predictions.json'))) as unknown;
    assert.deepEqual(predictions, { epoch: 3, view: 'centre', labels: ['U+3042', 'U+3042', 'U+3044'] });
    assert.equal(new TextDecoder().decode(files.get('metrics.jsonl')).trim().split('\n').length, 3);
  });
});
