/**
 * The run controller on real child-process Jobs (LocalJobRunner) and a filesystem Store, each
 * phase run by the real phase entrypoint with small stand-in bodies (`phase-fixture.ts`): a
 * run ends succeeded with every phase run once; the same inputs again skip every phase from
 * the cache without a Job. (One model changed: `run-controller-change.test.ts`.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph } from '@kzr/pipeline';

import { runKzr } from './kzr-cli.js';
import { benchSpec, drive, openBench, type RunBench } from './run-fixture.js';

describe('run controller: cache', () => {
  let bench: RunBench;
  before(async () => {
    bench = await openBench();
  });
  after(() => bench.close());

  it('runs every phase once, then skips every one of them from the cache without a Job', async () => {
    const spec = benchSpec(2);
    const graph = buildPhaseGraph(spec);
    const ids = graph.phases.map((p) => p.id);

    const first = await drive(bench, 'r1', spec);
    assert.equal(first.state.status, 'succeeded');
    for (const p of first.state.phases.values()) {
      assert.deepEqual([p.id, p.status, p.attempts, p.cacheHit], [p.id, 'succeeded', 1, false]);
    }
    assert.equal(first.jobs.length, ids.length);
    // Recorded before it ran: every phase has a started record before its completion.
    const events = (await readRunRecord(bench.store, 'r1')).events;
    assert.deepEqual(
      events.map((e) => `${e.type} ${'phase' in e ? e.phase : ''}`),
      ids.flatMap((id) => [`started ${id}`, `completed ${id}`]),
    );

    const again = await drive(bench, 'r2', spec);
    assert.equal(again.state.status, 'succeeded');
    assert.deepEqual(
      [...again.state.phases.values()].map((p) => [p.id, p.cacheHit, p.attempts]),
      ids.map((id) => [id, true, 0]),
    );
    assert.deepEqual(again.jobs, []);
    assert.ok(again.seconds < 5, `${again.seconds} s`);
    assert.deepEqual(
      again.lines.map((l) => [l.phase, l.status, l.cacheHit]),
      ids.map((id) => [id, 'succeeded', true]),
    );

    console.log(`run ${first.seconds.toFixed(1)} s, from the cache ${again.seconds.toFixed(1)} s`);
  });

  it('lists the runs, replays a finished one to a watcher, and leaves a finished run as it is on cancel and resume', async () => {
    const env = { KZR_DATA_DIR: bench.dataDir };
    const [list, watch, cancel] = await Promise.all([
      runKzr(['run', 'list'], env),
      runKzr(['run', 'watch', 'r2'], env),
      runKzr(['run', 'cancel', 'r1'], env),
    ]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .map((r) => [r.run, r.status, r.dataset, r.phases, r.succeeded, r.cacheHits]),
      [
        ['r1', 'succeeded', 'd1', 13, 13, 0],
        ['r2', 'succeeded', 'd1', 13, 13, 13],
      ],
    );
    assert.equal(watch.code, 0, watch.stderr);
    const lines = watch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.filter((l) => l.type === 'phase' && l.cacheHit === true).length, 13);
    assert.deepEqual([lines.at(-1)!.type, lines.at(-1)!.status, lines.at(-1)!.cacheHits], ['run', 'succeeded', 13]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.deepEqual(JSON.parse(cancel.stdout), { run: 'r1', status: 'succeeded', cancelRequested: false });
    // Resuming a finished run has nothing to do but report it.
    const resumed = await runKzr(['run', 'resume', 'r2'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!).cacheHits, 13);
    const missing = await runKzr(['run', 'watch', 'nope'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^kzr: run "nope" not found\n$/);
  });
});
