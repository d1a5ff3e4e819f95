/**
 * A started service main names unknown `KZR_*` variables in one warning (a misspelt variable
 * would otherwise fall back to its default in silence) and answers the probes on its plaintext
 * health-only port (`KZR_HEALTH_PORT`), as the chart's Deployments use them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { checkHealth, freePort, waitForExit } from '@kzr/testkit';

describe('a started service main', () => {
  it('warns once about unknown KZR_ variables and serves its probes on KZR_HEALTH_PORT', async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kzr-postprocess-main-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const healthPort = await freePort();
    const main = fileURLToPath(new URL('../services/postprocess/src/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        // Only the variables below among KZR_* (the test runner sets KZR_TEST_TIMES).
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KZR_'))),
        KZR_DATA_DIR: dataDir,
        KZR_GRPC_PORT: '0',
        KZR_HEALTH_PORT: String(healthPort),
        KZR_POSTPROCESS_FILTER_CACHE: '2',
        KZR_POSTPROCESS_FILTER_CASH: '2',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const lines: Array<Record<string, unknown>> = [];
    let buffered = '';
    const started = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the main exited (${code}) before it started: ${buffered}`)));
      child.stderr.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const part of parts) {
          if (!part.startsWith('{')) continue;
          const line = JSON.parse(part) as Record<string, unknown>;
          lines.push(line);
          if (line['message'] === 'service started') resolve();
        }
      });
    });
    await started;

    const warnings = lines.filter((l) => l['level'] === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.deepEqual(warnings[0]?.['names'], ['KZR_POSTPROCESS_FILTER_CASH']);
    assert.equal(await checkHealth(`127.0.0.1:${healthPort}`), 'SERVING');
    assert.equal(await checkHealth(`127.0.0.1:${healthPort}`, 'liveness'), 'SERVING');
    child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(child, 30_000), { code: 0, signal: null });
  });
});
