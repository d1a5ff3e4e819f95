import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { FP_FEATURE_NAMES } from '@kzr/core/postprocess';
import { resolveParams, train } from '@kzr/gbdt';
import { FsStore, ValidationError } from '@kzr/platform';

import {
  filterManifestKey,
  filterSchemaVersion,
  modelSetManifestKey,
  modelSetSchemaVersion,
  PagePreprocessing,
  newestModelSetVersion,
  publishModelSet,
  readModelSetManifest,
  StoreFilterRepository,
  type Filter,
} from '../src/index.js';

const input = { channels: 1, scaleSize: 8, cropSize: 8, mean: [0.5], std: [0.25] } as const;

function namesField(field: string) {
  return (err: unknown): boolean => err instanceof ValidationError && err.field === field;
}

/** A tiny booster over the 117 false-positive features (two trees on seeded rows). */
function tinyFilter(version: string): Filter {
  const numFeatures = FP_FEATURE_NAMES.length;
  const numRows = 60;
  const values = new Float64Array(numRows * numFeatures);
  const labels = new Float64Array(numRows);
  for (let r = 0; r < numRows; r++) {
    for (let f = 0; f < numFeatures; f++) values[r * numFeatures + f] = ((r * 31 + f * 17) % 23) / 23;
    labels[r] = r % 3 === 0 ? 1 : 0;
  }
  const { booster } = train(
    { features: { numRows, numFeatures, values }, labels },
    resolveParams({ num_iterations: 2, min_data_in_leaf: 5, num_leaves: 4, seed: 1 }),
  );
  return { version, boosters: [booster], featureNames: FP_FEATURE_NAMES, threshold: 0.4 };
}

describe('manifest schema versions', () => {
  let dir: string;
  let store: FsStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-artifacts-'));
    store = await FsStore.open({ root: dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a model-set manifest with its schema version and reads the same manifest back', async () => {
    const written = await publishModelSet(store, {
      modelSet: 'set',
      version: 'v1',
      codes: ['U+3042', 'U+3044'],
      members: [{ name: 'm', kind: 'onnx', onnx: Uint8Array.of(1, 2, 3), input }],
    });
    assert.equal(written.schemaVersion, modelSetSchemaVersion);
    const stored = JSON.parse((await store.getBytes(modelSetManifestKey('set', 'v1'))).toString()) as {
      schemaVersion: unknown;
    };
    assert.equal(stored.schemaVersion, 2);
    // Unknown, the page preprocessing is the training pipeline's.
    assert.equal(written.pagePreprocessing, PagePreprocessing.BenDenoise);
    assert.deepEqual(await readModelSetManifest(store, 'set', 'v1'), written);
    assert.deepEqual(await newestModelSetVersion(store), { modelSet: 'set', version: 'v1' });
  });

  it('rejects a model-set manifest of an unknown or missing schema version, naming the field', async () => {
    const manifest = await readModelSetManifest(store, 'set', 'v1');
    for (const [version, schemaVersion] of [
      ['v2', 3],
      ['v3', undefined],
    ] as const) {
      await store.put(
        modelSetManifestKey('set', version),
        Buffer.from(JSON.stringify({ ...manifest, version, schemaVersion })),
      );
      await assert.rejects(readModelSetManifest(store, 'set', version), (err: unknown) => {
        assert.ok(namesField('manifest.schemaVersion')(err), String(err));
        assert.match((err as Error).message, schemaVersion === undefined ? /missing/ : /unknown schema version 3/);
        return true;
      });
    }
    // Versions this code cannot read are not candidates for the newest.
    assert.deepEqual(await newestModelSetVersion(store, 'set'), { modelSet: 'set', version: 'v1' });
  });

  it('records the page preprocessing of a set, reads a version 1 manifest as Ben + denoise, and rejects an unknown one', async () => {
    const raw = await publishModelSet(store, {
      modelSet: 'raw',
      version: 'v1',
      codes: ['U+3042', 'U+3044'],
      members: [{ name: 'm', kind: 'onnx', onnx: Uint8Array.of(1), input }],
      pagePreprocessing: PagePreprocessing.None,
    });
    assert.equal((await readModelSetManifest(store, 'raw', 'v1')).pagePreprocessing, 'none');
    const { pagePreprocessing: _, ...v1 } = { ...raw, version: 'v2', schemaVersion: 1 };
    await store.put(modelSetManifestKey('raw', 'v2'), Buffer.from(JSON.stringify(v1)));
    assert.equal((await readModelSetManifest(store, 'raw', 'v2')).pagePreprocessing, 'ben+denoise');
    await store.put(
      modelSetManifestKey('raw', 'v3'),
      Buffer.from(JSON.stringify({ ...raw, version: 'v3', pagePreprocessing: 'clahe' })),
    );
    await assert.rejects(readModelSetManifest(store, 'raw', 'v3'), namesField('manifest.pagePreprocessing'));
  });

  it('rejects a manifest stored under another set or version than it names', async () => {
    const manifest = await readModelSetManifest(store, 'set', 'v1');
    await store.put(modelSetManifestKey('set', 'v9'), Buffer.from(JSON.stringify(manifest)));
    await assert.rejects(readModelSetManifest(store, 'set', 'v9'), namesField('manifest.modelSet'));
  });

  it('round-trips a filter version with its schema version and rejects an unknown one', async () => {
    const repo = new StoreFilterRepository(store);
    const filter = tinyFilter('f1');
    const keys = await repo.save(filter, { folds: 1 });
    assert.deepEqual(keys, { modelKey: 'filters/f1/model.txt', featuresKey: filterManifestKey('f1') });
    const stored = JSON.parse((await store.getBytes(keys.featuresKey)).toString()) as Record<string, unknown>;
    assert.equal(stored.schemaVersion, filterSchemaVersion);
    const loaded = await repo.load('f1');
    assert.deepEqual([loaded.version, loaded.threshold, loaded.featureNames], ['f1', 0.4, FP_FEATURE_NAMES]);
    assert.equal(loaded.boosters[0]!.trees.length, filter.boosters[0]!.trees.length);
    assert.equal(await repo.latest(), 'f1');

    await store.put(
      filterManifestKey('f2'),
      Buffer.from(JSON.stringify({ ...stored, version: 'f2', schemaVersion: 7 })),
    );
    await assert.rejects(repo.load('f2'), namesField('features.schemaVersion'));
    await assert.rejects(repo.load('../models'), namesField('version'));
  });
});
