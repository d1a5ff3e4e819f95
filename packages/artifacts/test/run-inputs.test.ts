/**
 * What a run reads from outside its phases, on the filesystem Store: the dataset's digest (every
 * object of the dataset, in key order) and the cancel request `kzr run cancel` leaves for the
 * run's controller.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { parseRunSpec } from '@kzr/pipeline';
import { FsStore, NotFoundError, type Store } from '@kzr/platform';

import {
  datasetDetectionsKey,
  datasetDigest,
  datasetLabelsKey,
  datasetPageKey,
  readRunCancelRequest,
  requestRunCancel,
  runCancelRequestKey,
  writeRunRecord,
} from '../src/index.js';

describe('run inputs', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-run-inputs-'));
    store = await FsStore.open({ root: dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('digests a dataset: the same objects give the same digest, any change another', async () => {
    await store.put(datasetPageKey('a', '900000001_001', '.jpg'), Buffer.from('page 1'));
    await store.put(datasetLabelsKey('a'), Buffer.from('image_id,labels\n'));
    const digest = await datasetDigest(store, 'a');
    assert.match(digest, /^[0-9a-f]{64}$/);
    // The same objects under another name digest the same: keys count relative to the dataset.
    await store.put(datasetPageKey('b', '900000001_001', '.jpg'), Buffer.from('page 1'));
    await store.put(datasetLabelsKey('b'), Buffer.from('image_id,labels\n'));
    assert.equal(await datasetDigest(store, 'b'), digest);

    await store.put(datasetDetectionsKey('b', 'det-a'), Buffer.from('[]'));
    const withDetections = await datasetDigest(store, 'b');
    assert.notEqual(withDetections, digest);
    await store.put(datasetPageKey('b', '900000001_001', '.jpg'), Buffer.from('page 1, edited'));
    assert.notEqual(await datasetDigest(store, 'b'), withDetections);
    await assert.rejects(datasetDigest(store, 'missing'), (err: unknown) => err instanceof NotFoundError);
  });

  it('keeps a cancel request beside the run record, for an existing run only', async () => {
    await assert.rejects(requestRunCancel(store, 'r1'), /run "r1" not found/);
    await writeRunRecord(store, {
      schemaVersion: 1,
      run: 'r1',
      createdAt: '2026-12-07T18:00:00.000Z',
      spec: parseRunSpec({
        schemaVersion: 1,
        dataset: { name: 'a' },
        models: [{ name: 'm1', config: {}, split: 's' }],
        split: { seed: 1, splits: [{ name: 's', valBook: '900000002' }], testBooks: ['900000003'] },
      }),
      external: { dataset: 'a'.repeat(64) },
      events: [],
    });
    assert.equal(await readRunCancelRequest(store, 'r1'), undefined);
    await requestRunCancel(store, 'r1', 'wrong preset', new Date('2026-12-07T18:01:00.000Z'));
    assert.deepEqual(await readRunCancelRequest(store, 'r1'), {
      reason: 'wrong preset',
      at: '2026-12-07T18:01:00.000Z',
    });
    assert.equal(runCancelRequestKey('r1'), 'runs/r1/cancel.json');
  });
});
