/**
 * `kzr run start --preset smoke` end to end with the real phases, each a local Job: every phase
 * runs, the run's stages and model set are written; the same run again completes every phase
 * from the cache; a second empty Store gets model-set members with the same sha256 (the smoke
 * preset pins wasm and one worker, so training is bit-reproducible).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { readModelSetManifest, readStagesReport } from '@kzr/artifacts';
import { FsStore } from '@kzr/platform';

import { runKzr, tempDir } from './kzr-cli.js';

interface Line {
  readonly type: string;
  readonly phase?: string;
  readonly status?: string;
  readonly cacheHit?: boolean;
  readonly cacheHits?: number;
  readonly ran?: number;
  readonly seconds?: number;
}

async function smoke(dataDir: string, run: string): Promise<{ lines: Line[]; seconds: number }> {
  const started = performance.now();
  const res = await runKzr(['run', 'start', '--preset', 'smoke', '--run', run], { KZR_DATA_DIR: dataDir });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(res.code, 0, res.stderr.slice(-4000));
  return {
    lines: res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line),
    seconds,
  };
}

/** The sha256 of each member's files of the model set a run published (version = the run). */
async function memberHashes(dataDir: string, version: string): Promise<string[][]> {
  const store = await FsStore.open({ root: join(dataDir, 'store') });
  try {
    const manifest = await readModelSetManifest(store, 'smoke', version);
    return manifest.members.map((m) =>
      m.kind === 'kzr' ? [m.name, m.weights.sha256, m.classMap.sha256] : [m.name, m.onnx.sha256, m.classMap.sha256],
    );
  } finally {
    await store.close();
  }
}

// The budget is 60 s per smoke run on 2 cores; the limit here leaves room for a loaded machine.
const timeout = 600_000;

describe('kzr run start --preset smoke', { timeout }, () => {
  it(
    'runs every phase, then every phase again from the cache; another empty Store publishes the same bytes',
    { timeout },
    async (t) => {
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

      const b = await tempDir(t, 'kzr-smoke-b-');
      await smoke(b, 'smoke-1');
      assert.deepEqual(await memberHashes(b, 'smoke-1'), await memberHashes(a, 'smoke-1'));
      console.log(`smoke: ${first.seconds.toFixed(1)} s, from the cache ${again.seconds.toFixed(1)} s`);
    },
  );
});
