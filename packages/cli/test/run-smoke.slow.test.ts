/**
 * `kzr run start --preset smoke` end to end with the real phases, each a local Job: every phase
 * runs and the run's stages are written; the same run again completes every phase from the cache
 * within 30 s. (Two empty Stores, the same bytes: `run-smoke-stores.test.ts`.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { readStagesReport } from '@kzr/artifacts';
import { FsStore } from '@kzr/platform';

import { tempDir } from './kzr-cli.js';
import { smoke, smokeTimeout as timeout } from './smoke-runs.js';

describe('kzr run start --preset smoke', { timeout }, () => {
  it('runs every phase, then every phase again from the cache', { timeout }, async (t) => {
    const a = await tempDir(t, 'kzr-smoke-a-');
    const first = await smoke(a, 'smoke-1');
    const end = first.lines.at(-1)!;
    assert.deepEqual([end.type, end.status, end.ran, end.cacheHits], ['run', 'succeeded', 13, 0]);
    const store = await FsStore.open({ root: join(a, 'store') });
    try {
      const stages = await readStagesReport(store, 'smoke-1');
      assert.ok(stages.stages.length >= 5, JSON.stringify(stages));
    } finally {
      await store.close();
    }

    const again = await smoke(a, 'smoke-2');
    const phases = again.lines.filter((l) => l.type === 'phase');
    assert.equal(phases.length, 13);
    assert.ok(phases.every((l) => l.status === 'succeeded' && l.cacheHit === true));
    assert.deepEqual([again.lines.at(-1)!.cacheHits, again.lines.at(-1)!.ran], [13, 0]);
    assert.ok(again.seconds <= 30, `the run from the cache took ${again.seconds} s`);

    console.log(`smoke: ${first.seconds.toFixed(1)} s, from the cache ${again.seconds.toFixed(1)} s`);
  });
});
