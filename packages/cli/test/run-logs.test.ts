/**
 * `kzr run logs` after a run driven by the real controller on local Jobs (the stand-in phase
 * bodies of `phase-fixture.ts`): it prints what a phase's Job wrote; an unknown run, phase,
 * model or attempt is one line and exit 2.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { jobLogFile } from '../src/runs/job-logs.js';
import { runKzr } from './kzr-cli.js';
import { benchSpec, drive, openBench, type RunBench } from './run-fixture.js';

describe('kzr run logs', () => {
  let bench: RunBench;
  let env: Record<string, string>;
  before(async () => {
    bench = await openBench();
    env = { KZR_DATA_DIR: bench.dataDir, KZR_STORE: 'fs', KZR_JOBS: 'local' };
    const spec = benchSpec(1);
    assert.equal((await drive(bench, 'r1', spec)).state.status, 'succeeded');
    // The same inputs again: every phase from the cache, no Job.
    assert.deepEqual((await drive(bench, 'r2', spec)).jobs, []);
  });
  after(() => bench.close());

  /** The JSON lines of a log, by `type`. */
  function linesOf(stdout: string): Array<Record<string, unknown>> {
    return stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it("prints the log of a phase's Job, and of a model's Job of a model phase", async () => {
    const split = await runKzr(['run', 'logs', 'r1', 'split'], env);
    assert.equal(split.code, 0, split.stderr);
    assert.ok(
      linesOf(split.stdout).some((l) => l['type'] === 'done' && l['phase'] === 'split'),
      split.stdout,
    );
    const train = await runKzr(['run', 'logs', 'r1', 'first-train', '--model', 'm1', '--attempt', '1'], env);
    assert.equal(train.code, 0, train.stderr);
    const lines = linesOf(train.stdout);
    assert.ok(
      lines.some((l) => l['type'] === 'epoch' && l['epoch'] === 1),
      train.stdout,
    );
    assert.ok(
      lines.some((l) => l['type'] === 'done' && l['phase'] === 'first-train/m1'),
      train.stdout,
    );
  });

  it('names an unknown run, phase, model or attempt in one line and exits 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['nope', 'split'], /^kzr: <run>: no run "nope" in the Store$/],
      [['r1', 'bogus'], /^kzr: <phase>: run r1 has no phase "bogus"; its phases: preprocess, split, /],
      [['r1', 'first-train'], /^kzr: --model: first-train runs one Job per model: expected one of m1$/],
      [['r1', 'first-train', '--model', 'm9'], /^kzr: --model: .*expected one of m1$/],
      [['r1', 'split', '--model', 'm1'], /^kzr: --model: split is one Job for all models/],
      [['r1', 'split', '--attempt', '2'], /^kzr: --attempt: expected an integer in \[1, 1\], got "2"$/],
      [
        ['r2', 'split'],
        /^kzr: <phase>: split of run r2 has run no Job \(not started yet, or completed from the cache\)$/,
      ],
      [['r1'], /^kzr: <run> <phase>: expected a run and a phase, got 1 arguments$/],
    ];
    for (const [args, expected] of cases) {
      const res = await runKzr(['run', 'logs', ...args], env);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.equal(res.stdout, '');
      assert.match(res.stderr.trimEnd(), expected);
      assert.equal(res.stderr.trimEnd().split('\n').length, 1);
    }
  });

  it("says where a Kubernetes Job's log is, and that a removed log file is gone", async () => {
    const k8s = await runKzr(['run', 'logs', 'r1', 'split'], {
      ...env,
      KZR_JOBS: 'kubernetes',
      KZR_KUBE_NAMESPACE: 'ml',
    });
    assert.equal(k8s.code, 1);
    assert.match(
      k8s.stderr,
      /^kzr: jobs: the log of Kubernetes Job r1-split-a1 is its pod's: kubectl logs -n ml job\/r1-split-a1\n$/,
    );
    const file = jobLogFile(join(bench.dataDir, 'jobs'), 'r1', 'preprocess', 1);
    await rm(file);
    const gone = await runKzr(['run', 'logs', 'r1', 'preprocess'], env);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `kzr: log file ${file} not found\n`);
  });
});
