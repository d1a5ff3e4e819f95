/**
 * `kzr run start` and `kzr run cancel` through a running trainer: the trainer (here in the test's
 * process, recorded in the data directory as `kzr start` records it) creates and drives the run
 * with its own JobRunner; the command prints the same lines as the in-process controller.
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
import { runKzr } from './kzr-cli.js';
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
});
