import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { checkHealth, listServicesByReflection, waitForExit } from '@kzr/testkit';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The first `count` JSON lines the child prints. */
async function jsonLines(child: ChildProcess, count: number, timeoutMs: number): Promise<unknown[]> {
  const lines = createInterface({ input: child.stdout! });
  const signal = AbortSignal.timeout(timeoutMs);
  const parsed: unknown[] = [];
  try {
    for await (const line of lines) {
      signal.throwIfAborted();
      parsed.push(JSON.parse(line));
      if (parsed.length === count) return parsed;
    }
  } finally {
    lines.close();
  }
  throw new Error(`the process ended (exit ${child.exitCode}) after ${parsed.length} lines`);
}

interface StartLine {
  event: string;
  mode: string;
  services: Record<string, { endpoint: string; health: string; ready: boolean }>;
  page: string;
  security: { tls: string; auth: string };
}

interface ReadyLine {
  event: string;
  endpoints: Record<string, string>;
  modelSet: string | null;
  modelSetVersion: string | null;
  filterVersion: string | null;
  stages: Record<string, number> | null;
  report: string | null;
  seconds: number;
}

describe('npm start', () => {
  it('serves the embedded services, reports them healthy, and exits 0 on SIGINT with ports freed', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kzr-start-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const graceMs = 3000;
    const child = spawn('npm', ['start', '--silent'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        KZR_DATA_DIR: dataDir,
        // Serve only: no first run (test/start-main-job.slow.test.ts trains one).
        KZR_START_RUN: 'none',
        KZR_PREPROCESS_PORT: '0',
        KZR_INFERENCE_PORT: '0',
        KZR_POSTPROCESS_PORT: '0',
        KZR_TRAINER_PORT: '0',
        KZR_HTTP_PORT: '0',
        KZR_SHUTDOWN_GRACE_MS: String(graceMs),
      },
      stdio: ['ignore', 'pipe', 'ignore'],
      // Its own process group, so that clean-up reaches npm's child too if an assertion fails early.
      detached: true,
    });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    });

    const [line, ready] = (await jsonLines(child, 2, 60_000)) as [StartLine, ReadyLine];
    assert.equal(line.event, 'started');
    assert.equal(line.mode, 'embedded');
    // Open by default, which the line says: only this machine reaches the loopback ports.
    assert.deepEqual(line.security, { tls: 'off', auth: 'none (open to every caller that reaches the port)' });
    assert.deepEqual(Object.keys(line.services).sort(), ['inference', 'postprocess', 'preprocess', 'trainer']);
    // The live page, on loopback (KZR_HTTP_PORT=0 here: a free port).
    assert.match(line.page, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const names = {
      preprocess: 'kzr.v1.Preprocess',
      inference: 'kzr.v1.Inference',
      postprocess: 'kzr.v1.Postprocess',
      trainer: 'kzr.v1.Trainer',
    };
    for (const [name, service] of Object.entries(line.services)) {
      assert.equal(service.health, 'SERVING');
      assert.match(service.endpoint, /^127\.0\.0\.1:\d+$/);
      assert.equal(await checkHealth(service.endpoint, names[name as keyof typeof names]), 'SERVING');
    }
    // Each port's reflection lists only what that port serves.
    const listed = async (name: string): Promise<string[]> =>
      (await listServicesByReflection(line.services[name]!.endpoint)).sort();
    assert.deepEqual(await listed('inference'), [
      'grpc.health.v1.Health',
      'inference.GRPCInferenceService',
      'kzr.v1.Inference',
    ]);
    assert.deepEqual(await listed('preprocess'), ['grpc.health.v1.Health', 'kzr.v1.Preprocess']);
    assert.deepEqual(await listed('postprocess'), ['grpc.health.v1.Health', 'kzr.v1.Postprocess']);
    assert.deepEqual(await listed('trainer'), ['grpc.health.v1.Health', 'kzr.v1.Trainer']);
    // `kzr run start` finds the trainer by its record in the data directory.
    assert.deepEqual(
      JSON.parse(await readFile(join(dataDir, 'trainer.json'), 'utf8')).endpoint,
      line.services['trainer']!.endpoint,
    );
    // No model set is published in the fresh data directory: inference is live but not ready.
    assert.deepEqual(
      Object.fromEntries(Object.entries(line.services).map(([name, service]) => [name, service.ready])),
      { preprocess: true, inference: false, postprocess: true, trainer: true },
    );
    assert.equal(await checkHealth(line.services['inference']!.endpoint), 'NOT_SERVING');
    // With KZR_START_RUN=none the start is ready at once, serving nothing yet.
    assert.deepEqual(ready, {
      event: 'ready',
      endpoints: Object.fromEntries(Object.entries(line.services).map(([name, s]) => [name, s.endpoint])),
      modelSet: null,
      modelSetVersion: null,
      filterVersion: null,
      stages: null,
      report: null,
      seconds: ready.seconds,
    });
    assert.equal(await checkHealth(line.services['inference']!.endpoint, 'liveness'), 'SERVING');

    const signalled = Date.now();
    child.kill('SIGINT');
    const exit = await waitForExit(child, graceMs + 5000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - signalled < graceMs + 2000, 'exited within the grace period');
    for (const service of Object.values(line.services)) {
      assert.ok(await portIsFree(Number(service.endpoint.split(':')[1])), `${service.endpoint} is free again`);
    }
    await assert.rejects(readFile(join(dataDir, 'trainer.json')), { code: 'ENOENT' });
  });

  for (const { name, env, args, message } of [
    {
      name: 'a bad KZR_SHUTDOWN_GRACE_MS',
      env: { KZR_SHUTDOWN_GRACE_MS: 'soon' },
      args: [],
      message: /KZR_SHUTDOWN_GRACE_MS="soon" is invalid: expected an integer/,
    },
    {
      name: 'a bad KZR_START_RUN',
      env: { KZR_START_RUN: 'upstream' },
      args: [],
      message: /KZR_START_RUN="upstream" is invalid: expected one of none, smoke, default/,
    },
    {
      name: 'a --dataset that is no folder',
      env: {},
      args: ['--dataset', '/nonexistent/kaggle'],
      message: /^kzr: --dataset: \/nonexistent\/kaggle is not a folder/m,
    },
  ]) {
    it(`stops with exit 2 naming the variable or flag for ${name}, before anything starts`, async () => {
      const child = spawn(process.execPath, ['packages/cli/bin/kzr.js', 'start', ...args], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exit = await waitForExit(child, 30_000);
      assert.equal(exit.code, 2, stderr);
      assert.match(stderr, message);
    });
  }
});
