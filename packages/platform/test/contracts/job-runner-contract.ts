/**
 * The JobRunner contract: one suite, the same test names, run against every implementation
 * (jobs-local.test.ts, jobs-kubernetes.test.ts). Jobs are small `node -e` scripts that leave
 * files in a temporary directory, so the test sees what really ran.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';

import { sleep } from './wait.js';

import {
  ConflictError,
  JobPhase,
  type JobRunner,
  type JobSpec,
  NotFoundError,
  runLabel,
  ValidationError,
} from '@kzr/platform';

/** How a suite gets runners of one implementation. */
export interface JobRunnerHarness {
  open(): Promise<JobRunner>;
}

const node = process.execPath;

/** Defines the contract suite for one implementation. */
export function jobRunnerContract(name: string, harness: JobRunnerHarness): void {
  describe(`JobRunner contract: ${name}`, () => {
    let runner: JobRunner;
    let dir = '';
    let prefix = '';
    const dirs: string[] = [];
    after(async () => {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    });
    beforeEach(async () => {
      runner = await harness.open();
      dir = await mkdtemp(join(tmpdir(), 'kzr-jobs-'));
      dirs.push(dir);
      prefix = `j${randomUUID().slice(0, 6)}`;
    });
    afterEach(async () => {
      await runner.close();
    });

    const job = (suffix: string, script: string, extra: Partial<JobSpec> = {}): JobSpec => ({
      name: `${prefix}-${suffix}`,
      image: 'ghcr.io/kzr/trainer:test',
      command: [node, '-e', script, '--'],
      env: { OUT: dir },
      labels: { [runLabel]: prefix },
      ...extra,
    });

    it('runs a job to Succeeded with its command, args and env', async () => {
      const spec = job(
        'ok',
        `require('fs').writeFileSync(process.env.OUT + '/ok.json', JSON.stringify({ greeting: process.env.GREETING, args: process.argv.slice(1) }))`,
        { args: ['--phase', 'first-train'], env: { OUT: dir, GREETING: 'konnichiwa' } },
      );
      const started = await runner.run(spec);
      assert.equal(started.name, spec.name);
      assert.ok(started.phase === JobPhase.Pending || started.phase === JobPhase.Running);
      const done = await runner.wait(spec.name);
      assert.equal(done.phase, JobPhase.Succeeded);
      assert.equal(done.failedAttempts, 0);
      assert.ok(done.startedAt && done.finishedAt && done.finishedAt >= done.startedAt);
      const written = JSON.parse(await readFile(join(dir, 'ok.json'), 'utf8')) as { greeting: string; args: string[] };
      assert.deepEqual(written, { greeting: 'konnichiwa', args: ['--phase', 'first-train'] });
      assert.equal((await runner.status(spec.name)).phase, JobPhase.Succeeded);
    });

    it('retries a failed attempt and succeeds within the backoff limit', async () => {
      const spec = job(
        'retry',
        `const fs = require('fs'); const m = process.env.OUT + '/marker'; if (!fs.existsSync(m)) { fs.writeFileSync(m, ''); process.exit(1); }`,
        { backoffLimit: 2 },
      );
      await runner.run(spec);
      const done = await runner.wait(spec.name);
      assert.equal(done.phase, JobPhase.Succeeded);
      assert.equal(done.failedAttempts, 1);
    });

    it('fails a job once backoffLimit retries are used up', async () => {
      const spec = job('fail', `require('fs').appendFileSync(process.env.OUT + '/attempts', 'x\\n'); process.exit(2)`, {
        backoffLimit: 2,
      });
      await runner.run(spec);
      const done = await runner.wait(spec.name);
      assert.equal(done.phase, JobPhase.Failed);
      assert.equal(done.reason, 'BackoffLimitExceeded');
      assert.equal(done.failedAttempts, 3);
      assert.equal((await readFile(join(dir, 'attempts'), 'utf8')).trim().split('\n').length, 3);
    });

    it('fails a job that runs past its active deadline', async () => {
      const spec = job(
        'deadline',
        `setTimeout(() => require('fs').writeFileSync(process.env.OUT + '/late', ''), 20000)`,
        {
          activeDeadlineSeconds: 1,
          backoffLimit: 3,
        },
      );
      const t0 = Date.now();
      await runner.run(spec);
      const done = await runner.wait(spec.name);
      assert.equal(done.phase, JobPhase.Failed);
      assert.equal(done.reason, 'DeadlineExceeded');
      const elapsedMs = Date.now() - t0;
      assert.ok(elapsedMs >= 900 && elapsedMs < 8000, `stopped after ${elapsedMs} ms`);
    });

    it('rejects a second job with the same name with a ConflictError', async () => {
      const spec = job('dup', 'setTimeout(() => {}, 200)');
      await runner.run(spec);
      await assert.rejects(runner.run(spec), ConflictError);
      assert.equal((await runner.wait(spec.name)).phase, JobPhase.Succeeded);
    });

    it('cancels a running job: its process stops and waiting reports Cancelled', async () => {
      const spec = job(
        'cancel',
        `setTimeout(() => require('fs').writeFileSync(process.env.OUT + '/survived', ''), 1500)`,
      );
      await runner.run(spec);
      const waiting = runner.wait(spec.name);
      await sleep(300);
      await runner.cancel(spec.name);
      const done = await waiting;
      assert.equal(done.phase, JobPhase.Failed);
      assert.equal(done.reason, 'Cancelled');
      await assert.rejects(runner.status(spec.name), NotFoundError);
      await sleep(1800);
      assert.equal(existsSync(join(dir, 'survived')), false, 'the process was stopped');
    });

    it('lists the jobs of a run by its label', async () => {
      await runner.run(job('a', '0'));
      await runner.run(job('b', '0'));
      await runner.run(job('other', '0', { labels: { [runLabel]: `${prefix}x` } }));
      const listed = await runner.list({ [runLabel]: prefix });
      assert.deepEqual(
        listed.map((s) => s.name),
        [`${prefix}-a`, `${prefix}-b`],
      );
      assert.ok(listed.every((s) => s.labels[runLabel] === prefix));
      assert.deepEqual(await runner.list({ [runLabel]: 'no-such-run' }), []);
      for (const s of listed) await runner.wait(s.name);
    });

    it('reports a missing job with a NotFoundError', async () => {
      await assert.rejects(runner.status(`${prefix}-none`), NotFoundError);
      await assert.rejects(runner.wait(`${prefix}-none`), NotFoundError);
      await assert.rejects(runner.cancel(`${prefix}-none`), NotFoundError);
    });

    it('rejects an invalid spec with a ValidationError naming the field', async () => {
      const cases: Array<[Partial<JobSpec>, string]> = [
        [{ name: 'Upper_Case' }, 'name'],
        [{ command: [] }, 'command'],
        [{ backoffLimit: -1 }, 'backoffLimit'],
        [{ activeDeadlineSeconds: 0 }, 'activeDeadlineSeconds'],
        [{ resources: { gpu: 0.5 } }, 'resources.gpu'],
        [{ resources: { memory: 'lots' } }, 'resources.memory'],
        [{ env: { 'BAD-NAME': 'x' } }, 'env.BAD-NAME'],
      ];
      for (const [override, field] of cases) {
        await assert.rejects(
          runner.run({ ...job('bad', '0'), ...override }),
          (err: unknown) => err instanceof ValidationError && err.field === field,
          field,
        );
      }
      assert.deepEqual(await runner.list({ [runLabel]: prefix }), []);
    });

    it('returns at once for a finished job and stops waiting on abort', async () => {
      const quick = job('quick', '0');
      await runner.run(quick);
      await runner.wait(quick.name);
      const t0 = Date.now();
      assert.equal((await runner.wait(quick.name)).phase, JobPhase.Succeeded);
      assert.ok(Date.now() - t0 < 1000);
      const slow = job('slow', 'setTimeout(() => {}, 5000)');
      await runner.run(slow);
      await assert.rejects(runner.wait(slow.name, { signal: AbortSignal.timeout(300) }), /abort|timeout/i);
      await runner.cancel(slow.name);
    });
  });
}
