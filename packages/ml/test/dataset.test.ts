import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { encodePng } from '@kzr/imaging';
import { createRng, undersampleForEpoch } from '@kzr/core';

import { MlValidationError } from '../src/errors.js';
import { classList, epochOrder, loadCrops } from '../src/train/dataset.js';

describe('training data', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-dataset-'));
    await mkdir(join(dir, 'pseudo_images'), { recursive: true });
    const png = (v: number): Promise<Buffer> =>
      encodePng({ width: 5, height: 7, channels: 3, data: new Uint8Array(5 * 7 * 3).fill(v) });
    await writeFile(join(dir, 'a.png'), await png(10));
    await writeFile(join(dir, 'b.png'), await png(200));
    await writeFile(join(dir, 'pseudo_images', 'c.png'), await png(90));
    await writeFile(join(dir, 'crops.csv'), 'label,path\nU+3042,a.png\nU+3044,b.png\nU+3042,pseudo_images/c.png\n');
    await writeFile(join(dir, 'bad.csv'), 'U+3042,a.png\nU+3044\n');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a label,path crop list (header skipped), marking pseudo_images/ crops as pseudo', async () => {
    const crops = await loadCrops(dir);
    assert.deepEqual(
      crops.map((c) => [c.label, c.pseudo, c.image.width, c.image.height, c.image.data[0]]),
      [
        ['U+3042', false, 5, 7, 10],
        ['U+3044', false, 5, 7, 200],
        ['U+3042', true, 5, 7, 90],
      ],
    );
    assert.deepEqual(classList(crops), ['U+3042', 'U+3044']);
  });

  it('names the file line of a malformed crop list', async () => {
    await assert.rejects(loadCrops(join(dir, 'bad.csv'), '--train'), (err: unknown) => {
      assert.ok(err instanceof MlValidationError);
      assert.equal(err.field, '--train:2');
      return true;
    });
  });

  it('undersamples large classes to a fresh random subset every epoch and shuffles', () => {
    const crops = [...new Array<string>(50).fill('U+3042'), ...new Array<string>(5).fill('U+3044')].map((label) => ({
      label,
    }));
    const rng = createRng(3);
    const first = epochOrder(crops, { maxPerClass: 10, seed: 3, epoch: 0 }, rng);
    const second = epochOrder(crops, { maxPerClass: 10, seed: 3, epoch: 1 }, rng);
    for (const order of [first, second]) {
      assert.equal(order.length, 15);
      assert.equal([...order].filter((i) => crops[i]!.label === 'U+3044').length, 5);
      assert.equal(new Set(order).size, 15);
    }
    assert.notDeepEqual([...first].sort(), [...second].sort());
    // The subset is core's undersampling of (seed, epoch); the generator only shuffles it.
    const kept = undersampleForEpoch(
      crops.map((c, index) => ({ code: c.label, index })),
      { maxPerClass: 10, seed: 3, epoch: 1 },
    ).map((row) => row.index);
    assert.deepEqual(
      [...second].sort((a, b) => a - b),
      kept,
    );
    assert.deepEqual(epochOrder(crops, { maxPerClass: 10, seed: 3, epoch: 0 }, createRng(3)), first);
    assert.equal(epochOrder(crops, { maxPerClass: 0, seed: 3, epoch: 0 }, createRng(1)).length, 55);
  });
});
