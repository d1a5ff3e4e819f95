/**
 * The cluster path gives the same bytes (issue 17's first acceptance point): a `smoke` run through
 * the standalone trainer on a real nats-server, the S3 server and the Kubernetes API stand-in
 * (whose simulated controller runs each phase Job's `kzr phase run` as a local process), asked for
 * with `kzr retrain` (`kzr.training.requested`), publishes model-set members with the same sha256
 * as the embedded run (`kzr run start --preset smoke`, local Jobs, a filesystem Store). The two
 * runs go at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { readRunRecord } from '@kzr/artifacts';
import { generateSyntheticDataset } from '@kzr/data';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState } from '@kzr/pipeline';
import { S3Store } from '@kzr/platform';
import { KubernetesApiStandIn, NatsServer, S3Server, waitForExit } from '@kzr/testkit';
import { loadRunSpec, syntheticDatasetName } from '@kzr/trainer';

import { repoRoot, runKzr, tempDir } from './kzr-cli.js';
import { memberHashes, modelSetMemberHashes, smoke, smokeTimeout as timeout } from './smoke-runs.js';

const trainerMain = join(repoRoot, 'services', 'trainer', 'dist', 'src', 'main.js');

/** The smoke run through the trainer on the cluster stand-ins; resolves with its members' hashes and wall time. */
async function clusterSmoke(
  t: { after: (fn: () => Promise<void>) => void },
  dir: string,
): Promise<{ hashes: string[][]; seconds: number; phaseJobs: number; jobs: number }> {
  const [nats, s3, kube] = await Promise.all([NatsServer.start(), S3Server.start(), KubernetesApiStandIn.start()]);
  t.after(async () => {
    await kube.cleanup();
    await nats.stop();
    await s3.cleanup();
  });
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kube.kubeconfig());
  const storeEnv = {
    KZR_STORE: 's3',
    KZR_S3_ENDPOINT: s3.endpoint,
    KZR_S3_ACCESS_KEY: S3Server.accessKey,
    KZR_S3_SECRET_KEY: S3Server.secretKey,
    KZR_S3_BUCKET: 'kzr',
  };
  // The smoke preset's synthetic dataset, stored as `kzr run start` stores it (run-setup): the
  // trainer reads datasets from the Store, ingesting is preprocess's.
  const { synthetic } = (await loadRunSpec({ preset: 'smoke' })).dataset;
  const books = join(dir, 'books');
  await generateSyntheticDataset({ ...synthetic!, outDir: books });
  const dataset = syntheticDatasetName(synthetic!);
  const ingested = await runKzr(['data', 'ingest', books, '--dataset', dataset], {
    ...storeEnv,
    KZR_DATA_DIR: join(dir, 'ingest'),
    KZR_BUS: 'memory',
  });
  assert.equal(ingested.code, 0, ingested.stderr);

  const env = {
    PATH: process.env.PATH ?? '',
    ...storeEnv,
    KZR_DATA_DIR: join(dir, 'trainer'),
    KZR_BUS: 'nats',
    KZR_NATS_URL: nats.url,
    KZR_JOBS: 'kubernetes',
    KUBECONFIG: kubeconfig,
    KZR_GRPC_PORT: '0',
    KZR_LOG_LEVEL: 'warn',
    // A Job of the stand-in sees only its container's environment: the Store and the Bus.
    KZR_TRAINER_JOB_ENV: `PATH,KZR_DATA_DIR,KZR_BUS,KZR_NATS_URL,${Object.keys(storeEnv).join(',')}`,
  };
  const trainer = spawn(process.execPath, ['--conditions=production', trainerMain], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  trainer.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  t.after(async () => {
    if (trainer.exitCode === null && trainer.signalCode === null) trainer.kill('SIGKILL');
  });

  const started = performance.now();
  const run = 'smoke-cluster';
  // The trainer's durable consumer takes a request published before it listens, too.
  const requested = await runKzr(['retrain', '--dataset', dataset, '--preset', 'smoke', '--request-id', run], {
    KZR_DATA_DIR: join(dir, 'retrain'),
    KZR_NATS_URL: nats.url,
  });
  assert.equal(requested.code, 0, requested.stderr);
  const store = await S3Store.connect({
    endpoint: s3.endpoint,
    bucket: 'kzr',
    accessKey: S3Server.accessKey,
    secretKey: S3Server.secretKey,
  });
  t.after(() => store.close());
  for (;;) {
    const record = await readRunRecord(store, run).catch(() => undefined);
    const state = record && reduceRunState(buildPhaseGraph(record.spec), record.events);
    if (state !== undefined && isFinalRunStatus(state.status)) {
      const failed = state.failedPhase === undefined ? undefined : state.phases.get(state.failedPhase);
      assert.equal(state.status, 'succeeded', `${state.failedPhase}: ${failed?.error?.message}\n${stderr}`);
      break;
    }
    assert.ok(trainer.exitCode === null, `the trainer exited: ${stderr}`);
    await sleep(1000);
  }
  const seconds = (performance.now() - started) / 1000;
  const hashes = await modelSetMemberHashes(store, run);
  trainer.kill('SIGTERM');
  assert.deepEqual(await waitForExit(trainer, 20_000), { code: 0, signal: null });
  const names = kube.jobs().map((j) => j.metadata.name);
  // Job names are `<run>-<phase>[-<model>]-a<attempt>`.
  return { hashes, seconds, phaseJobs: new Set(names.map((n) => n.replace(/-a\d+$/, ''))).size, jobs: names.length };
}

describe('a smoke run through the trainer on the cluster stand-ins', { timeout }, () => {
  it('publishes model-set members with the same sha256 as the embedded run', { timeout }, async (t) => {
    const [embeddedDir, clusterDir] = [await tempDir(t, 'kzr-smoke-embedded-'), await tempDir(t, 'kzr-smoke-cluster-')];
    const [embedded, cluster] = await Promise.all([smoke(embeddedDir, 'smoke-embedded'), clusterSmoke(t, clusterDir)]);
    const hashes = await memberHashes(embeddedDir, 'smoke-embedded');
    assert.equal(hashes.length, 2);
    assert.deepEqual(cluster.hashes, hashes);
    // Every phase ran as a Kubernetes Job (a retried attempt as another).
    assert.equal(cluster.phaseJobs, Object.keys(embedded.lines.at(-1)!.phases!).length);
    console.log(
      `smoke: embedded ${embedded.seconds.toFixed(1)} s, cluster ${cluster.seconds.toFixed(1)} s (${cluster.jobs} Jobs)`,
    );
  });
});
