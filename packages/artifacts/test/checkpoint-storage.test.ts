import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { FsStore, ValidationError } from '@kzr/platform';

import { runOutputPrefix, storeCheckpointStorage } from '../src/index.js';

describe('checkpoint storage on the Store', () => {
  it('puts, gets and copies under its prefix; a missing key reads as undefined', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-ckpt-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await using store = await FsStore.open({ root: dir });
    const storage = storeCheckpointStorage(store, runOutputPrefix('r1', 'first-train', 'tiny'));
    assert.equal(storage.location, 'store:runs/r1/first-train/tiny');

    await storage.put('epoch-0001/weights.bin', Uint8Array.of(1, 2, 3));
    await storage.copy('epoch-0001/weights.bin', 'best/weights.bin');
    assert.deepEqual(await storage.get('best/weights.bin'), Uint8Array.of(1, 2, 3));
    assert.deepEqual(
      (await store.list('runs/r1/')).map((o) => o.key),
      ['runs/r1/first-train/tiny/best/weights.bin', 'runs/r1/first-train/tiny/epoch-0001/weights.bin'],
    );
    assert.equal(await storage.get('latest.json'), undefined);
    await assert.rejects(storage.put('../escape.bin', Uint8Array.of(0)), ValidationError);
  });
});
