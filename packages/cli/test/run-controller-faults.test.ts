/**
 * The run controller when things go wrong (real child-process Jobs, filesystem Store, stand-in
 * phase bodies of `phase-fixture.ts`): a training Job killed mid-epoch is retried, resumes after
 * the checkpoint it stored and the run completes; `kzr run cancel`'s request stops the running
 * Job's process and ends the run cancelled.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import { readPhaseManifest, readRunRecord, requestRunCancel } from '@kzr/artifacts';

import { checkpointEpoch } from '../src/runs/attempt-report.js';
import { benchSpec, drive, openBench, type RunBench } from './run-fixture.js';

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
});
