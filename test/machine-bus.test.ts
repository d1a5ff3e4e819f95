// One Bus per machine (DESIGN.md "Runtime modes"): `kzr start` runs a nats-server child under
// its data directory, and `kzr` commands run from another terminal with the same data directory
// publish on it while it runs: a model set imported is loaded by the running inference service
// without a restart, and a dataset ingested is preprocessed by the running worker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { cropIndexKey } from '@kzr/artifacts';
import { FsStore, machineBusFile } from '@kzr/platform';
import { checkHealth, firstJsonLine, waitForExit } from '@kzr/testkit';

import { syntheticCrops } from './helpers/synthetic-crops.js';
import { kzr, trainTinyModel } from './helpers/tiny-model.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

interface StartLine {
  adapters: { bus: string };
  services: Record<string, { endpoint: string }>;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

describe('one Bus per machine', () => {
  it('serves a model set imported and preprocesses a dataset ingested from another command while kzr start runs', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-machine-bus-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    const env: NodeJS.ProcessEnv = { ...process.env, KZR_DATA_DIR: dataDir, KZR_TF_BACKEND: 'wasm' };
    delete env['KZR_BUS'];
    delete env['KZR_NATS_URL'];
    // A checkpoint to import, trained in another data directory (its own Bus).
    const crops = await syntheticCrops(dir, { classes: 3, pagesPerBook: 1, seed: 3, trainBooks: 1 });
    const checkpoint = await trainTinyModel(dir, crops, 3, { ...env, KZR_DATA_DIR: join(dir, 'train-data') });

    const child = spawn(process.execPath, ['packages/cli/bin/kzr.js', 'start'], {
      cwd: repoRoot,
      env: { ...env, KZR_PREPROCESS_PORT: '0', KZR_INFERENCE_PORT: '0', KZR_POSTPROCESS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const line = (await firstJsonLine(child, 60_000)) as unknown as StartLine;
    assert.equal(line.adapters.bus.startsWith('nats:'), true, line.adapters.bus);
    const record = JSON.parse(await readFile(machineBusFile(dataDir), 'utf8')) as { url: string };
    assert.equal(line.adapters.bus, `nats:${record.url}`);
    const inference = line.services['inference']!.endpoint;
    assert.equal(await checkHealth(inference), 'NOT_SERVING');

    const imported = await kzr(env, 'model', 'import-onnx', '--model-set', 'm', '--version', 'v1', checkpoint);
    assert.equal(imported.code, 0, imported.stderr);
    await until(
      'the imported set served',
      async () => (await checkHealth(inference, 'kzr.v1.Inference/m')) === 'SERVING',
    );

    const ingested = await kzr(env, 'data', 'ingest', join(dir, 'books'), '--dataset', 'books');
    assert.equal(ingested.code, 0, ingested.stderr);
    const store = await FsStore.open({ root: join(dataDir, 'store') });
    await until(
      'the ingested dataset preprocessed',
      () =>
        store.stat(cropIndexKey('books', 'train')).then(
          () => true,
          () => false,
        ),
      60_000,
    );

    child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(child, 20_000), { code: 0, signal: null });
    assert.equal(existsSync(machineBusFile(dataDir)), false, 'bus.json removed when the Bus stops');
    // With the Bus gone, a lone command falls back to its own in-process Bus.
    const alone = await kzr(env, 'model', 'import-onnx', '--model-set', 'm', '--version', 'v2', checkpoint);
    assert.equal(alone.code, 0, alone.stderr);
  });
});
