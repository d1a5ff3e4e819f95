// One Bus per machine (DESIGN.md "Runtime modes"): `kzr start` runs a nats-server child under
// its data directory, and `kzr` commands run from another terminal with the same data directory
// publish on it while it runs: a model set imported is loaded by the running inference service
// without a restart, and a dataset ingested is preprocessed by the running worker.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import * as grpc from '@grpc/grpc-js';
import { InferenceClient } from '@kzr/api/kzr/v1/inference';
import { cropIndexKey } from '@kzr/artifacts';
import { FsStore, machineBusFile } from '@kzr/platform';
import { checkHealth, firstJsonLine, waitForExit } from '@kzr/testkit';

import { callContinuously, recognizeRequest, until } from './helpers/recognize-calls.js';
import { syntheticCrops } from './helpers/synthetic-crops.js';
import { machineEnv, spawnStart } from './helpers/kzr-start.js';
import { kzr, trainTinyModel } from './helpers/tiny-model.js';

interface StartLine {
  adapters: { bus: string };
  services: Record<string, { endpoint: string }>;
}

function importArgs(version: string): string[] {
  return ['model', 'import-onnx', '--model-set', 'm', '--version', version, '--page-preprocessing', 'none'];
}

describe('one Bus per machine', () => {
  it('serves a model set imported from another command, switches versions on promote and rollback without a failed call, and preprocesses a dataset ingested while kzr start runs', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-machine-bus-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    const env = machineEnv(dataDir);
    // A checkpoint to import, trained in another data directory (its own Bus).
    const crops = await syntheticCrops(dir, { classes: 3, pagesPerBook: 1, seed: 3, trainBooks: 1 });
    const checkpoint = await trainTinyModel(dir, crops, 3, { ...env, KZR_DATA_DIR: join(dir, 'train-data') });

    const child = spawnStart(t, env, 'ignore');
    const line = (await firstJsonLine(child, 60_000)) as unknown as StartLine;
    assert.equal(line.adapters.bus.startsWith('nats:'), true, line.adapters.bus);
    const record = JSON.parse(await readFile(machineBusFile(dataDir), 'utf8')) as { url: string };
    assert.equal(line.adapters.bus, `nats:${record.url}`);
    const inference = line.services['inference']!.endpoint;
    assert.equal(await checkHealth(inference), 'NOT_SERVING');

    const imported = await kzr(env, ...importArgs('v1'), checkpoint);
    assert.equal(imported.code, 0, imported.stderr);
    await until(
      'the imported set served',
      async () => (await checkHealth(inference, 'kzr.v1.Inference/m')) === 'SERVING',
    );

    // Promote and rollback switch the served version while a client calls RecognizePage.
    assert.equal((await kzr(env, ...importArgs('v2'), checkpoint)).code, 0);
    const client = new InferenceClient(inference, grpc.credentials.createInsecure());
    const caller = callContinuously(client, await recognizeRequest(join(dir, 'books'), 'm'), {
      everyMs: 100,
      overlapping: false,
    });
    await caller.until('v2 served, the newest', (v) => v === 'v2');
    const promoted = await kzr(env, 'model', 'promote', '--model-set', 'm', '--version', 'v1');
    assert.equal(promoted.code, 0, promoted.stderr);
    await caller.until('v1 served once promoted', (v) => v === 'v1');
    // A version published while another is promoted is stored, not served.
    assert.equal((await kzr(env, ...importArgs('v3'), checkpoint)).code, 0);
    await sleep(1500);
    assert.equal(caller.last(), 'v1');
    const rolledBack = await kzr(env, 'model', 'rollback', '--model-set', 'm');
    assert.equal(rolledBack.code, 0, rolledBack.stderr);
    await caller.until('v2 served again after the rollback', (v) => v === 'v2');
    const listed = (await kzr(env, 'model', 'list')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { version: string; served: boolean });
    assert.deepEqual(
      listed.filter((v) => v.served).map((v) => v.version),
      ['v2'],
    );
    const { calls, failures } = await caller.stop();
    client.close();
    assert.deepEqual(failures, [], `${failures.length} of ${calls} calls failed`);

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
    const alone = await kzr(env, ...importArgs('v4'), checkpoint);
    assert.equal(alone.code, 0, alone.stderr);
  });
});
