/**
 * The run controller (real child-process Jobs, filesystem Store, stand-in phase bodies of
 * `phase-fixture.ts`): after one run, a run with one model's configuration changed reruns
 * exactly that model's first training and the phases downstream of it; the other model's
 * training, preprocess and split are cache hits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { buildPhaseGraph, downstreamOf } from '@kzr/pipeline';

import { benchSpec, drive, openBench, type RunBench } from './run-fixture.js';

describe('run controller: one model changed', () => {
  let bench: RunBench;
  before(async () => {
    bench = await openBench();
  });
  after(() => bench.close());

  it('reruns only that model’s phases and those downstream', async () => {
    const spec = benchSpec(2, [], { parallelism: 2 });
    const first = await drive(bench, 'r1', spec);
    assert.equal(first.state.status, 'succeeded');

    const changed = await drive(bench, 'r2', benchSpec(2, [{}, { widthMultiplier: 0.5 }], { parallelism: 2 }));
    assert.equal(changed.state.status, 'succeeded');
    const phases = [...changed.state.phases.values()];
    assert.deepEqual(
      phases.filter((p) => !p.cacheHit).map((p) => p.id),
      ['first-train/m2', ...downstreamOf(buildPhaseGraph(spec), 'first-train/m2')],
    );
    assert.deepEqual(
      phases.filter((p) => p.cacheHit).map((p) => p.id),
      ['preprocess', 'split', 'first-train/m1'],
    );
    assert.equal(changed.jobs.length, phases.filter((p) => !p.cacheHit).length);
    console.log(`run ${first.seconds.toFixed(1)} s, one model changed ${changed.seconds.toFixed(1)} s`);
  });
});
