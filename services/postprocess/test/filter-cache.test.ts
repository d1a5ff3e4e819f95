import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MemoryFilterRepository, type Filter, type FilterRepository } from '@kzr/artifacts';
import { FP_FEATURE_NAMES } from '@kzr/core/postprocess';
import { resolveParams, train } from '@kzr/gbdt';
import { ConfigError, NotFoundError, ValidationError } from '@kzr/platform';

import { compilePostprocessConfig, defaultFilterCacheSize, FilterState } from '../src/index.js';

/** A real (tiny) filter over the 117 features: two trees on seeded rows. */
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
  return { version, boosters: [booster], featureNames: FP_FEATURE_NAMES, threshold: 0.5 };
}

describe('the filter cache', () => {
  it('keeps the N most recently used versions and loads an evicted one again', async () => {
    const memory = new MemoryFilterRepository();
    for (const v of ['f1', 'f2', 'f3']) await memory.save(tinyFilter(v));
    const loads: string[] = [];
    const counting: FilterRepository = {
      save: (filter) => memory.save(filter),
      latest: () => memory.latest(),
      load: (version) => {
        loads.push(version);
        return memory.load(version);
      },
    };
    const state = new FilterState(counting, 2);

    await state.get('f1');
    await state.get('f2');
    await state.get('f1'); // a hit: f1 becomes the most recent
    assert.deepEqual(state.cachedVersions, ['f2', 'f1']);
    await state.get('f3'); // evicts f2, the least recently used
    assert.deepEqual(state.cachedVersions, ['f1', 'f3']);
    assert.equal((await state.get('f2')).version, 'f2');
    assert.deepEqual(loads, ['f1', 'f2', 'f3', 'f2']);
    assert.deepEqual(state.cachedVersions, ['f3', 'f2']);
  });

  it('does not keep a version that failed to load', async () => {
    const state = new FilterState(new MemoryFilterRepository());
    await assert.rejects(state.get('missing'), NotFoundError);
    assert.deepEqual(state.cachedVersions, []);
  });

  it('has a default size and rejects a size below one, naming it', () => {
    assert.ok(defaultFilterCacheSize >= 1);
    assert.throws(
      () => new FilterState(new MemoryFilterRepository(), 0),
      (err: unknown) => err instanceof ValidationError && err.field === 'filterCacheSize',
    );
  });

  it('takes its size from KZR_POSTPROCESS_FILTER_CACHE, and an invalid size fails the config naming it', () => {
    assert.equal(compilePostprocessConfig({}).filterCacheSize, defaultFilterCacheSize);
    assert.equal(compilePostprocessConfig({ KZR_POSTPROCESS_FILTER_CACHE: '2' }).filterCacheSize, 2);
    assert.throws(
      () => compilePostprocessConfig({ KZR_POSTPROCESS_FILTER_CACHE: '0' }),
      (err: unknown) => err instanceof ConfigError && err.field === 'KZR_POSTPROCESS_FILTER_CACHE',
    );
  });
});
