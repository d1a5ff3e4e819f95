import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { checkHealth, waitForExit } from '@kzr/testkit';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('the preprocess main', () => {
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
