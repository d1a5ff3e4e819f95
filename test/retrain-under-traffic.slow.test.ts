/**
 * Retraining under traffic on one machine (issue 17's third acceptance point): `kzr start` serves
 * a model set `smoke` already published (a tiny checkpoint imported as `v0`) while a client calls
 * RecognizePage twice a second, each call with a 10 s deadline. `kzr retrain --preset smoke` on a
 * stored dataset asks the running trainer for a run over the machine's Bus; the run publishes a
 * new version of `smoke`, the inference service swaps to it (RecognizePage answers with it), and
 * no call fails.
 *
 * `kzr start` runs no main job here (`KZR_START_RUN=none`): the served set is the test's. On a
 * machine loaded by other work, calls sent while the new version loads have missed their
 * deadline (9-10 of 330-450); on the idle 2-core machine none does (the slowest took 3.1 s).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { InferenceClient } from '@kzr/api/kzr/v1/inference';
import { cropIndexKey, readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState } from '@kzr/pipeline';
import { FsStore } from '@kzr/platform';
import { checkHealth, firstJsonLine, waitForExit } from '@kzr/testkit';

import { callContinuously, recognizeRequest, until } from './helpers/recognize-calls.js';
import { syntheticCrops } from './helpers/synthetic-crops.js';
import { machineEnv, spawnStart } from './helpers/kzr-start.js';
import { kzr, trainTinyModel } from './helpers/tiny-model.js';

/** The smoke run takes 1-3 min on two idle cores; a shared machine gets more. */
const timeout = 900_000;

describe('kzr retrain under traffic', { timeout }, () => {
  it(
    'runs a smoke run through the running trainer; its version is published and served, and no call fails',
    { timeout },
    async (t) => {
      const started = performance.now();
      const at = (what: string): void =>
        console.log(`${what} at ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const dir = await mkdtemp(join(tmpdir(), 'kzr-retrain-traffic-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const dataDir = join(dir, 'data');
      const env = machineEnv(dataDir);
      // The version served first: a tiny checkpoint trained in another data directory.
      const crops = await syntheticCrops(dir, { classes: 3, pagesPerBook: 1, seed: 3, trainBooks: 1 });
      const checkpoint = await trainTinyModel(dir, crops, 3, { ...env, KZR_DATA_DIR: join(dir, 'train-data') });
      // The dataset to retrain on, shaped as the smoke preset's synthetic one (its split names these books).
      const books = join(dir, 'smoke-books');
      const synth = await kzr(
        env,
        ...['data', 'synth', '--books', '4', '--holdout-books', '1', '--pages-per-book', '2', '--classes', '10'],
        ...['--seed', '16', '--out', books],
      );
      assert.equal(synth.code, 0, synth.stderr);

      const child = spawnStart(t, env, 'pipe');
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-6000)));
      const line = (await firstJsonLine(child, 60_000)) as { services: Record<string, { endpoint: string }> };
      const inference = line.services['inference']!.endpoint;

      const ingested = await kzr(env, 'data', 'ingest', books, '--dataset', 'books');
      assert.equal(ingested.code, 0, ingested.stderr);
      const imported = await kzr(
        env,
        ...['model', 'import-onnx', '--model-set', 'smoke', '--version', 'v0', '--page-preprocessing', 'none'],
        checkpoint,
      );
      assert.equal(imported.code, 0, imported.stderr);
      await until('v0 served', async () => (await checkHealth(inference, 'kzr.v1.Inference/smoke')) === 'SERVING');
      const store = await FsStore.open({ root: join(dataDir, 'store') });
      t.after(() => store.close());
      // The running preprocess worker crops the ingested dataset in kzr start's process: the
      // traffic starts once it has (this test is about retraining, machine-bus.test.ts about ingest).
      await until(
        'the ingested dataset preprocessed',
        () =>
          store.stat(cropIndexKey('books', 'train')).then(
            () => true,
            () => false,
          ),
        120_000,
      );

      const client = new InferenceClient(inference, grpc.credentials.createInsecure());
      t.after(() => client.close());
      at('calls start');
      const caller = callContinuously(client, await recognizeRequest(books, 'smoke'), {
        everyMs: 500,
        overlapping: true,
      });
      await caller.until('v0 answering', (v) => v === 'v0');

      at('retrain asked');
      const retrain = await kzr(env, 'retrain', '--dataset', 'books', '--preset', 'smoke');
      assert.equal(retrain.code, 0, retrain.stderr);
      const { run } = JSON.parse(retrain.stdout) as { run: string };
      const ended = new Set<string>();
      await until(
        `run ${run} ended`,
        async () => {
          const record = await readRunRecord(store, run).catch(() => undefined);
          if (record === undefined) return false;
          const { status, phases } = reduceRunState(buildPhaseGraph(record.spec), record.events);
          for (const [phase, p] of phases) {
            if (!ended.has(phase) && (p.status === 'succeeded' || p.status === 'failed')) {
              ended.add(phase);
              at(`${phase} ${p.status}`);
            }
          }
          if (isFinalRunStatus(status)) assert.equal(status, 'succeeded', `run ${run} ${status}\n${stderr}`);
          return isFinalRunStatus(status);
        },
        timeout - 120_000,
      );
      at('run succeeded');
      await caller
        .until(`${run} served`, (v) => v === run, 120_000)
        .catch(async (err: unknown) => {
          const { failures } = await caller.stop();
          assert.fail(`${String(err)}; served ${caller.last()}; failed calls:\n${failures.join('\n')}\n${stderr}`);
        });
      at('its version served');
      const { calls, failures, slowestMs } = await caller.stop();
      console.log(`${calls} calls, ${failures.length} failed, the slowest answered in ${slowestMs} ms`);
      assert.deepEqual(failures, [], `${failures.length} of ${calls} calls failed\n${stderr}`);

      child.kill('SIGTERM');
      assert.deepEqual(await waitForExit(child, 30_000), { code: 0, signal: null });
    },
  );
});
