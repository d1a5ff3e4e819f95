/**
 * The trainer on the Kubernetes API stand-in. No state outside the Store: the trainer as its own process (the standalone main) on a real
 * nats-server, a filesystem Store and the Kubernetes API stand-in, whose simulated controller runs
 * each Job's command (the CLI's phase fixture) as a local process. SIGKILLed while a training Job
 * runs, the trainer started again drives the unfinished run: it adopts the running Job (waits on
 * it instead of failing or relaunching it), runs no finished phase again, and the run completes.
 * Its spec asks for GPUs: the Job bodies of the model phases ask for one, the others for none.
 * Cancel stops running Jobs: CancelRun while a training Job runs deletes the Job with background
 * propagation, its process stops, and the run ends cancelled.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { type Run, TrainerClient } from '@kzr/api/kzr/v1/trainer';
import { readPhaseManifest, readRunRecord, writeRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, isFinalRunStatus, modelPhaseNames, parseRunSpec, reduceRunState } from '@kzr/pipeline';
import { NatsBus } from '@kzr/platform';
import { freePort, KubernetesApiStandIn, NatsServer, waitForExit } from '@kzr/testkit';

import { checkpointEpoch } from '../src/attempt-report.js';
import { phaseJobName } from '../src/controller.js';
import { repoRoot } from '../src/paths.js';
import { createRun, storedDatasetDigest } from '../src/run-create.js';
import { benchSpecJson, fixtureCommand, openBench, type TrainerBench, until } from './bench.js';

const main = join(repoRoot, 'services', 'trainer', 'dist', 'src', 'main.js');

/** Process ids of `run`'s training Jobs (their command lines name both). */
function trainingProcesses(run: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `phase run --run ${run} --phase first-train`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('trainer on the Kubernetes API stand-in', () => {
  let bench: TrainerBench;
  let nats: NatsServer;
  let kube: KubernetesApiStandIn;
  let env: Record<string, string>;
  const trainers: ChildProcess[] = [];

  /** Starts the standalone trainer (the compiled main); its stderr is kept for a failure's message. */
  const startTrainer = (more: Record<string, string> = {}): { child: ChildProcess; stderr: () => string } => {
    const child = spawn(process.execPath, ['--conditions=production', main], {
      env: { ...env, ...more },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    trainers.push(child);
    return { child, stderr: () => stderr };
  };

  before(async () => {
    [bench, nats, kube] = await Promise.all([openBench(), NatsServer.start(), KubernetesApiStandIn.start()]);
    const kubeconfig = join(bench.dataDir, 'kubeconfig');
    await writeFile(kubeconfig, kube.kubeconfig());
    env = {
      PATH: process.env.PATH ?? '',
      KZR_DATA_DIR: bench.dataDir,
      KZR_STORE: 'fs',
      KZR_BUS: 'nats',
      KZR_NATS_URL: nats.url,
      KZR_JOBS: 'kubernetes',
      KUBECONFIG: kubeconfig,
      KZR_GRPC_PORT: '0',
      KZR_LOG_LEVEL: 'warn',
      KZR_TRAINER_POLL_MS: '100',
      KZR_TRAINER_JOB_COMMAND: fixtureCommand,
      // A Job of the stand-in sees only its container's environment: the Store, the Bus, the fixture's pace.
      KZR_TRAINER_JOB_ENV: 'KZR_DATA_DIR,KZR_STORE,KZR_BUS,KZR_NATS_URL,FIXTURE_EPOCHS,FIXTURE_EPOCH_MS',
      FIXTURE_EPOCHS: '3',
      FIXTURE_EPOCH_MS: '1500',
    };
  });
  after(async () => {
    for (const child of trainers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await kube?.cleanup();
    await nats?.stop();
    await bench?.close();
  });

  it('adopts the running training Job, runs no finished phase again, completes the run; GPUs for model phases only', async () => {
    // The spec asks for GPUs: its model phases' Jobs ask for one each, the others none.
    const spec = parseRunSpec(JSON.parse(benchSpecJson(7, { gpu: true, backend: 'auto' })));
    const digest = (await storedDatasetDigest(bench.store, 'd1'))!;
    await createRun(bench.store, 'adopt', spec, { name: 'd1', digest, synthetic: undefined });
    const graph = buildPhaseGraph(spec);
    const training = phaseJobName('adopt', 'first-train/m1', 1);

    // The first trainer finds the unfinished run at start and drives it into the training.
    const first = startTrainer();
    await until(
      'the first epoch of the training',
      async () => (await checkpointEpoch(bench.store, 'adopt', 'first-train/m1')) === 1,
      40_000,
    ).catch((err: unknown) => assert.fail(`${String(err)}\n${first.stderr()}`));
    first.child.kill('SIGKILL');
    await waitForExit(first.child, 5000);
    const job = kube.jobs().find((j) => j.metadata.name === training);
    assert.equal(job?.status?.active, 1, 'the training Job outlives its trainer');

    const second = startTrainer();
    await until(
      'the run to end',
      async () => {
        const record = await readRunRecord(bench.store, 'adopt');
        return isFinalRunStatus(reduceRunState(graph, record.events).status);
      },
      40_000,
    ).catch((err: unknown) => assert.fail(`${String(err)}\n${second.stderr()}`));

    const record = await readRunRecord(bench.store, 'adopt');
    const state = reduceRunState(graph, record.events);
    assert.equal(state.status, 'succeeded', second.stderr());
    // Every phase started once, as one Job: the adopted training was waited on, not relaunched.
    const started = record.events.flatMap((e) => (e.type === 'started' ? [e.phase] : []));
    assert.deepEqual(
      started,
      graph.phases.map((p) => p.id),
    );
    assert.ok(!record.events.some((e) => e.type === 'failed'));
    assert.deepEqual(
      kube
        .jobs()
        .map((j) => j.metadata.name)
        .sort(),
      graph.phases.map((p) => phaseJobName('adopt', p.id, 1)).sort(),
    );
    const gpus = Object.fromEntries(
      kube.jobs().map((j) => {
        const [container] = j.spec.template.spec.containers as Array<{
          resources?: { limits?: Record<string, string> };
        }>;
        return [j.metadata.labels?.['kzr.io/phase'], container?.resources?.limits?.['nvidia.com/gpu'] ?? 'none'];
      }),
    );
    assert.deepEqual(
      gpus,
      Object.fromEntries(graph.phases.map((p) => [p.phase, modelPhaseNames.includes(p.phase) ? '1' : 'none'])),
    );
    // The training ran its three epochs in the one Job that outlived the first trainer.
    const train = state.phases.get('first-train/m1')!;
    assert.equal(train.attempts, 1);
    const manifest = await readPhaseManifest(bench.store, train.manifestKey!, train.manifestSha256);
    assert.deepEqual(manifest.summary, { startEpoch: 1, epochs: 3 });

    second.child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(second.child, 10_000), { code: 0, signal: null });
  });

  it('announces again the phase states recorded before it took the run over', async () => {
    // A trainer killed between writing a `started` record and publishing its event: the record
    // names an attempt whose Job never came and whose event never went out.
    // A seed of its own: the cancel test's training must not find this run's in the cache.
    const spec = parseRunSpec(JSON.parse(benchSpecJson(9)));
    const digest = (await storedDatasetDigest(bench.store, 'd1'))!;
    await createRun(bench.store, 'reannounce', spec, { name: 'd1', digest, synthetic: undefined });
    const graph = buildPhaseGraph(spec);
    const first = graph.phases[0]!.id;
    const record = await readRunRecord(bench.store, 'reannounce');
    const at = new Date().toISOString();
    await writeRunRecord(bench.store, {
      ...record,
      events: [{ type: 'started', phase: first, attempt: 1, inputHash: '0'.repeat(64), resume: false, at }],
    });
    const bus = await NatsBus.connect({ servers: nats.url, name: 'reannounce-audit' });
    const ids = new Set<string>();
    await bus.consume({ durable: 'reannounce-audit', filterSubject: 'kzr.phase.>' }, async (m) => void ids.add(m.id));
    const trainer = startTrainer();
    try {
      const lost = `phase-reannounce-${first}-a1-running`;
      await until('the recorded start announced', async () => ids.has(lost), 20_000).catch((err: unknown) =>
        assert.fail(`${String(err)}\n${trainer.stderr()}`),
      );
      await until(
        'the run to end',
        async () =>
          isFinalRunStatus(reduceRunState(graph, (await readRunRecord(bench.store, 'reannounce')).events).status),
        40_000,
      );
      // The attempt without a Job failed; the phase then completed: run again, or found in the
      // cache of the first test's run (preprocess hashes no model seed), its attempts the one made.
      const state = reduceRunState(graph, (await readRunRecord(bench.store, 'reannounce')).events);
      assert.ok(ids.has(`phase-reannounce-${first}-a1-failed`));
      assert.ok(ids.has(`phase-reannounce-${first}-a${state.phases.get(first)!.attempts}-succeeded`), [...ids].join());
    } finally {
      trainer.child.kill('SIGTERM');
      await waitForExit(trainer.child, 10_000);
      await bus.close();
    }
  });

  it('CancelRun deletes the running training Job with background propagation, stops its process, ends the run cancelled', async () => {
    const spec = parseRunSpec(JSON.parse(benchSpecJson(8)));
    const digest = (await storedDatasetDigest(bench.store, 'd1'))!;
    await createRun(bench.store, 'cancel', spec, { name: 'd1', digest, synthetic: undefined });
    const training = phaseJobName('cancel', 'first-train/m1', 1);
    const port = await freePort();
    // A training far longer than the test: only the cancel ends it.
    const trainer = startTrainer({ KZR_GRPC_PORT: String(port), FIXTURE_EPOCHS: '100' });
    await until(
      'the training Job running',
      async () =>
        kube.jobs().some((j) => j.metadata.name === training && j.status?.active === 1) &&
        trainingProcesses('cancel').length > 0,
      40_000,
    ).catch((err: unknown) => assert.fail(`${String(err)}\n${trainer.stderr()}`));

    const client = new TrainerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const cancelled = await new Promise<Run>((resolve, reject) =>
        client.cancelRun({ runId: 'cancel' }, (err, res) => (err ? reject(err) : resolve(res))),
      );
      assert.equal(cancelled.runId, 'cancel');
    } finally {
      client.close();
    }
    await until('the run cancelled', async () => {
      const record = await readRunRecord(bench.store, 'cancel');
      return reduceRunState(buildPhaseGraph(spec), record.events).status === 'cancelled';
    }).catch((err: unknown) => assert.fail(`${String(err)}\n${trainer.stderr()}`));

    const state = reduceRunState(buildPhaseGraph(spec), (await readRunRecord(bench.store, 'cancel')).events);
    assert.equal(state.phases.get('first-train/m1')!.status, 'cancelled');
    assert.deepEqual(
      kube.deletions().filter((d) => d.name === training),
      [{ namespace: 'kzr', name: training, propagationPolicy: 'Background' }],
    );
    assert.equal(
      kube.jobs().some((j) => j.metadata.name === training),
      false,
    );
    await until('the training process gone', async () => trainingProcesses('cancel').length === 0, 5000);

    trainer.child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(trainer.child, 10_000), { code: 0, signal: null });
  });
});
