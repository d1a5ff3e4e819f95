import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { checkHealth, runToExit, waitForExit } from '@kzr/testkit';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('the preprocess main', () => {
  it('exits 2 naming KZR_STORE when it is invalid', async () => {
    const exit = await runToExit(main, { env: { KZR_STORE: 'bogus', KZR_GRPC_PORT: '0' } });
    assert.equal(exit.code, 2, exit.stderr);
    assert.match(exit.stderr, /KZR_STORE="bogus" is invalid: expected one of fs, s3/);
  });

  it('exits 2 naming a bad NATS URL before anything opens', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kzr-preprocess-main-'));
    try {
      const exit = await runToExit(main, {
        env: { KZR_BUS: 'nats', KZR_NATS_URL: 'http://nats:4222', KZR_DATA_DIR: dataDir, KZR_GRPC_PORT: '0' },
      });
      assert.equal(exit.code, 2, exit.stderr);
      assert.match(exit.stderr, /KZR_NATS_URL="http:\/\/nats:4222" is invalid/);
      assert.deepEqual(await readdir(dataDir), [], 'the filesystem Store was not opened');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('serves after start-up, and on SIGTERM drains and exits 0', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kzr-preprocess-main-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, KZR_DATA_DIR: dataDir, KZR_GRPC_PORT: '0', KZR_SHUTDOWN_GRACE_MS: '2000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    const started = new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const line = stderr.split('\n').find((l) => l.includes('"service started"'));
        if (line) resolve((JSON.parse(line) as { endpoint: string }).endpoint);
      });
      child.once('exit', () => reject(new Error(`exited before serving: ${stderr}`)));
    });
    const endpoint = await started;
    assert.equal(await checkHealth(endpoint, 'kzr.v1.Preprocess'), 'SERVING');
    assert.equal(await checkHealth(endpoint, 'liveness'), 'SERVING');

    child.kill('SIGTERM');
    const exit = await waitForExit(child, 10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, stderr);
    assert.match(stderr, /"stopped".*"state":"stopped"/);
  });
});
