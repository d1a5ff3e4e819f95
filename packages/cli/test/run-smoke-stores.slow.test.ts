/**
 * Two `kzr run start --preset smoke` runs in two empty Stores, at once: the model sets they
 * publish have members with the same sha256 (the preset pins wasm and one worker, so every phase
 * is bit-reproducible).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { tempDir } from './kzr-cli.js';
import { memberHashes, smoke, smokeTimeout as timeout } from './smoke-runs.js';

describe('kzr run start --preset smoke in two empty Stores', { timeout }, () => {
  it('publishes model-set members with the same sha256', { timeout }, async (t) => {
    const [a, b] = [await tempDir(t, 'kzr-smoke-a-'), await tempDir(t, 'kzr-smoke-b-')];
    const runs = await Promise.all([smoke(a, 'smoke-a'), smoke(b, 'smoke-b')]);
    const [hashesA, hashesB] = [await memberHashes(a, 'smoke-a'), await memberHashes(b, 'smoke-b')];
    assert.equal(hashesA.length, 2);
    assert.deepEqual(hashesB, hashesA);
    console.log(`two smoke runs at once: ${runs.map((r) => r.seconds.toFixed(1)).join(' s, ')} s`);
  });
});
