/**
 * `kzr run start|cancel|watch|list` through a running trainer: the trainer (here in the test's
 * process, recorded in the data directory as `kzr start` records it) creates and drives the run
 * with its own JobRunner; the command prints the same lines as the in-process controller, and
 * `kzr run watch|list` from the wire print what they print from the Store.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, runSpecToJson } from '@kzr/pipeline';
import { createLogger, LocalJobRunner, MemoryBus } from '@kzr/platform';
import { compileTrainerConfig, createTrainer, type TrainerRuntime } from '@kzr/trainer';

import { recordTrainer } from '../src/trainer-client.js';
import { runKzr, tempDir } from './kzr-cli.js';
import { benchSpec, openBench, type RunBench } from './run-fixture.js';

const fixture = fileURLToPath(new URL('../dist/test/phase-fixture.js', import.meta.url));

describe('kzr run through the trainer', () => {
  let bench: RunBench;
  let jobs: LocalJobRunner;
  let bus: MemoryBus;
  let trainer: TrainerRuntime;
  let record: AsyncDisposable;
  before(async () => {
    bench = await openBench();
    const logger = createLogger({ level: 'warn' });
    bus = new MemoryBus({ source: 'test', logger });
    jobs = new LocalJobRunner({
      baseEnv: { ...process.env, KZR_DATA_DIR: bench.dataDir, KZR_STORE: 'fs', KZR_BUS: 'memory' },
    });
    const config = compileTrainerConfig({
      KZR_DATA_DIR: bench.dataDir,
      KZR_GRPC_PORT: '0',
      KZR_TRAINER_JOB_COMMAND: JSON.stringify([process.execPath, '--conditions=production', fixture]),
      KZR_TRAINER_POLL_MS: '100',
    });
    trainer = await createTrainer({ config, bus, store: bench.store, jobs, logger });
    record = await recordTrainer(bench.dataDir, trainer.server.endpoint);
  });
  after(async () => {
    await record?.[Symbol.asyncDispose]();
    await trainer?.close();
    await jobs?.close();
    await bus?.close();
    await bench?.close();
  });

  it('starts the run on the trainer, which drives it, and prints its lines to the end', async () => {
    const spec = benchSpec(1);
    const file = join(bench.dataDir, 'spec.json');
    await writeFile(file, JSON.stringify(runSpecToJson(spec)));
    const res = await runKzr(['run', 'start', '--spec', file, '--dataset', 'd1', '--run', 'via-trainer'], {
      KZR_DATA_DIR: bench.dataDir,
    });
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ids = buildPhaseGraph(spec).phases.map((p) => p.id);
    assert.deepEqual(
      [lines[0]!.type, lines[0]!.run, lines[0]!.trainer, lines[0]!.phases],
      ['created', 'via-trainer', trainer.server.endpoint, ids],
    );
    assert.deepEqual([lines.at(-1)!.type, lines.at(-1)!.status, lines.at(-1)!.ran], ['run', 'succeeded', ids.length]);
    // The trainer's JobRunner ran every phase, not the command.
    assert.equal((await jobs.list({ 'kzr.io/run': 'via-trainer' })).length, ids.length);
    assert.equal((await readRunRecord(bench.store, 'via-trainer')).spec.dataset.name, 'd1');

    const cancel = await runKzr(['run', 'cancel', 'via-trainer'], { KZR_DATA_DIR: bench.dataDir });
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.deepEqual(JSON.parse(cancel.stdout), { run: 'via-trainer', status: 'succeeded', cancelRequested: false });
  });

  it('watches and lists runs through the trainer with the lines it prints from the Store', async (t) => {
    const lines = (stdout: string) =>
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Through the trainer only: this data directory's Store is empty.
    const remote = { KZR_DATA_DIR: await tempDir(t), KZR_TRAINER_URL: trainer.server.endpoint };
    // From the Store only: the trainer named is not there.
    const local = { KZR_DATA_DIR: bench.dataDir, KZR_TRAINER_URL: '127.0.0.1:1' };

    const [watched, read] = await Promise.all([
      runKzr(['run', 'watch', 'via-trainer'], remote),
      runKzr(['run', 'watch', 'via-trainer'], local),
    ]);
    assert.equal(watched.code, 0, watched.stderr);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(lines(watched.stdout), lines(read.stdout));
    assert.deepEqual(lines(watched.stdout).at(-1)!.status, 'succeeded');

    const [listed, stored] = await Promise.all([runKzr(['run', 'list'], remote), runKzr(['run', 'list'], local)]);
    assert.equal(listed.code, 0, listed.stderr);
    const byRun = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.run).localeCompare(String(b.run));
    assert.deepEqual(lines(listed.stdout).sort(byRun), lines(stored.stdout).sort(byRun));
    assert.ok(lines(listed.stdout).some((l) => l.run === 'via-trainer' && l.status === 'succeeded'));

    const unknown = await runKzr(['run', 'watch', 'no-such-run'], remote);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no-such-run/);
  });
});
