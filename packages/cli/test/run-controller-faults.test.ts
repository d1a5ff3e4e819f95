/**
 * The run controller when things go wrong (real child-process Jobs, filesystem Store, stand-in
 * phase bodies of `phase-fixture.ts`): a training Job killed mid-epoch is retried, resumes after
 * the checkpoint it stored and the run completes; `kzr run cancel`'s request stops the running
 * Job's process and ends the run cancelled.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import { lookupPhaseCache, readPhaseManifest, readRunRecord, requestRunCancel, writeRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, readyPhases, reduceRunState, type RunEvent } from '@kzr/pipeline';
import { checkpointEpoch } from '@kzr/trainer';

import { benchSpec, createBenchRun, drive, openBench, type RunBench } from './run-fixture.js';

/** Process ids of the phase Jobs of `run` running `phase` (their command lines name both). */
function phaseProcesses(run: string, phase: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `phase run --run ${run} --phase ${phase}( |$)`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('run controller: faults', () => {
  let bench: RunBench;
  before(async () => {
    bench = await openBench();
  });
  after(() => bench.close());

  it('retries a training killed mid-epoch, resuming after its checkpoint, and completes the run', async () => {
    const driving = drive(bench, 'killed', benchSpec(1), { FIXTURE_EPOCHS: '3', FIXTURE_EPOCH_MS: '1500' });
    await until(
      'the first epoch checkpoint',
      async () => (await checkpointEpoch(bench.store, 'killed', 'first-train/m1')) === 1,
    );
    const [pid] = phaseProcesses('killed', 'first-train');
    assert.ok(pid, 'the training Job runs');
    process.kill(-pid, 'SIGKILL'); // its process group, mid-epoch 2
    const { state, lines } = await driving;

    assert.equal(state.status, 'succeeded');
    const train = state.phases.get('first-train/m1')!;
    assert.deepEqual([train.attempts, train.checkpointEpoch, train.cacheHit], [2, 1, false]);
    const manifest = await readPhaseManifest(bench.store, train.manifestKey!, train.manifestSha256);
    assert.deepEqual(manifest.summary, { startEpoch: 2, epochs: 3 });
    const events = (await readRunRecord(bench.store, 'killed')).events.flatMap((e) =>
      e.type !== 'cancel-requested' && e.phase === 'first-train/m1' ? [e] : [],
    );
    assert.deepEqual(
      events.map((e) => [
        e.type,
        e.attempt,
        e.type === 'started' ? e.resume : e.type === 'failed' ? e.retryable : null,
      ]),
      [
        ['started', 1, false],
        ['checkpoint', 1, null],
        ['failed', 1, true],
        ['started', 2, true],
        ['completed', 2, null],
      ],
    );
    assert.deepEqual(
      lines.filter((l) => l.phase === 'first-train/m1').map((l) => [l.status, l.attempt, l.checkpointEpoch]),
      [
        ['running', 1, undefined],
        ['failed', 1, undefined],
        ['running', 2, 1],
        ['succeeded', 2, undefined],
      ],
    );
  });

  it('cancels on request: the running Job is stopped and the run ends cancelled', async () => {
    const driving = drive(bench, 'cancelled', benchSpec(1, [{ slow: true }]), {
      FIXTURE_EPOCHS: '10',
      FIXTURE_EPOCH_MS: '2000',
    });
    await until('the training Job', async () => phaseProcesses('cancelled', 'first-train').length > 0);
    await requestRunCancel(bench.store, 'cancelled', 'test');
    const { state } = await driving;
    assert.equal(state.status, 'cancelled');
    assert.equal(state.phases.get('first-train/m1')!.status, 'cancelled');
    assert.equal(state.phases.get('first-infer')!.status, 'pending');
    await until('the Job to be gone', async () => phaseProcesses('cancelled', 'first-train').length === 0, 5000);
    const events = (await readRunRecord(bench.store, 'cancelled')).events.map((e) => e.type);
    assert.deepEqual(events.slice(-2), ['cancel-requested', 'cancelled']);
  });

  it('restarted on a run whose controller died, settles the phases recorded running and completes it', async () => {
    // The run 'killed' above finished every phase of benchSpec(1), so m1's training is cached; m2's is new.
    const spec = benchSpec(2, [{}, { orphan: true }], { parallelism: 2 });
    await createBenchRun(bench, 'orphan', spec);
    const record = await readRunRecord(bench.store, 'orphan');
    const graph = buildPhaseGraph(record.spec);
    const at = new Date().toISOString();
    const events: RunEvent[] = [];
    const ready = (id: string) =>
      readyPhases(graph, reduceRunState(graph, events), record.external).find((p) => p.node.id === id)!;
    // What a dead controller left: preprocess and split completed; both trainings started, m1's Job
    // completed it (its cache entry exists), m2's is gone without outputs.
    for (const id of ['preprocess', 'split']) {
      const { inputHash } = ready(id);
      const cached = (await lookupPhaseCache(bench.store, [ready(id)])).get(inputHash)!;
      events.push({ type: 'started', phase: id, attempt: 1, inputHash, resume: false, at });
      events.push({ type: 'completed', phase: id, attempt: 1, inputHash, cacheHit: false, at, ...cached });
    }
    const trainings = ['first-train/m1', 'first-train/m2'].map((id) => ready(id));
    for (const { node, inputHash } of trainings) {
      events.push({ type: 'started', phase: node.id, attempt: 1, inputHash, resume: false, at });
    }
    await writeRunRecord(bench.store, { ...record, events });

    const { state } = await drive(bench, 'orphan', undefined);
    assert.equal(state.status, 'succeeded');
    const recorded = (await readRunRecord(bench.store, 'orphan')).events.slice(events.length);
    assert.deepEqual(
      recorded.slice(0, 4).map((e) => [e.type, e.type === 'cancel-requested' ? '' : e.phase]),
      [
        ['completed', 'first-train/m1'],
        ['failed', 'first-train/m2'],
        ['started', 'first-train/m2'],
        ['completed', 'first-train/m2'],
      ],
    );
    const failed = recorded[1]!;
    assert.ok(failed.type === 'failed' && failed.retryable && /controller restarted/.test(failed.error));
    assert.deepEqual(
      [state.phases.get('first-train/m1')!.cacheHit, state.phases.get('first-train/m2')!.attempts],
      [true, 2],
    );
  });
});
