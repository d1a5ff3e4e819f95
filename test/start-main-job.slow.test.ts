/**
 * `npm start`'s main job on a fresh data directory with `KZR_START_RUN=smoke`: every stdout line
 * is JSON with an `event`; the start trains the smoke preset through the trainer, the services
 * hot-swap to what it published, and the `ready` line names that model set and filter version,
 * the stages' F1 and an existing report.html; RecognizePage answers with those versions. A
 * second start on the same directory finds the published set and is ready within 30 s without
 * training again.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import {
  InferenceClient,
  type RecognizePageRequest,
  type RecognizePageResponse,
  Voting,
} from '@kzr/api/kzr/v1/inference';
import { datasetDetectionsPrefix, datasetPageKey } from '@kzr/artifacts';
import { toDetectionSet } from '@kzr/core';
import { FsStore } from '@kzr/platform';
import { waitForExit } from '@kzr/testkit';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const timeout = 600_000;

interface Event {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** Starts `kzr start` on `dataDir`; resolves with every line up to and including `ready`. */
async function startUntilReady(
  t: TestContext,
  dataDir: string,
  limitMs: number,
): Promise<{ child: ChildProcess; events: Event[] }> {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KZR_DATA_DIR: dataDir,
      KZR_START_RUN: 'smoke',
      KZR_PREPROCESS_PORT: '0',
      KZR_INFERENCE_PORT: '0',
      KZR_POSTPROCESS_PORT: '0',
      KZR_TRAINER_PORT: '0',
      KZR_HTTP_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  const events: Event[] = [];
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  try {
    for await (const line of lines) {
      const event = JSON.parse(line) as Event;
      assert.equal(typeof event.event, 'string', `every line has an event: ${line}`);
      events.push(event);
      if (event.event === 'ready' || event.event === 'error') break;
    }
  } finally {
    clearTimeout(timer);
  }
  return { child, events };
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGINT');
  assert.deepEqual(await waitForExit(child, 30_000), { code: 0, signal: null });
}

describe('npm start with KZR_START_RUN=smoke', { timeout }, () => {
  it(
    'trains, publishes and serves on a fresh data directory; the next start is ready without training',
    { timeout },
    async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'kzr-main-job-'));
      t.after(() => rm(dataDir, { recursive: true, force: true }));

      const first = await startUntilReady(t, dataDir, timeout - 90_000);
      const names = first.events.map((e) => e.event);
      assert.equal(names[0], 'started');
      assert.ok(names.includes('requested'), names.join(' '));
      assert.ok(names.includes('phase'), names.join(' '));
      const runEnd = first.events.find((e) => e.event === 'run')!;
      assert.equal(runEnd.status, 'succeeded');
      const ready = first.events.at(-1)!;
      assert.equal(ready.event, 'ready', JSON.stringify(ready));
      const run = runEnd.run as string;
      assert.deepEqual([ready.modelSet, ready.modelSetVersion, ready.filterVersion], ['smoke', run, run]);
      const stages = ready.stages as Record<string, number>;
      assert.deepEqual(Object.keys(stages), ['first', 'first+filter', 'second-train', 'refine', 'final']);
      assert.ok(Object.values(stages).every((f1) => f1 >= 0 && f1 <= 1));
      assert.ok((await stat(ready.report as string)).size > 10_000, 'report.html was written');

      // RecognizePage serves the run's model set and filter.
      const store = new FsStore({ root: join(dataDir, 'store') });
      const dataset = first.events.find((e) => e.event === 'requested')!.dataset as string;
      const pageId = '900000004_00001';
      const endpoints = ready.endpoints as Record<string, string>;
      const client = new InferenceClient(endpoints['inference']!, grpc.credentials.createInsecure());
      try {
        const data = await store.getBytes(datasetPageKey(dataset, pageId, '.jpg'));
        // The dataset's own detection sets, as the run's phases send them.
        const detectionSets: RecognizePageRequest['detectionSets'] = [];
        for (const info of await store.list(datasetDetectionsPrefix(dataset))) {
          const set = toDetectionSet(JSON.parse((await store.getBytes(info.key)).toString('utf8')), info.key);
          const detections = set.pages.find((p) => p.pageId === pageId)?.detections ?? [];
          detectionSets.push({
            name: set.name,
            pageId,
            detections: detections.map((d) => ({
              box: { x: d.x, y: d.y, width: d.width, height: d.height },
              score: d.score,
            })),
          });
        }
        const answer = await new Promise<RecognizePageResponse>((resolve, reject) => {
          client.recognizePage(
            {
              model: { modelSet: '', version: '' },
              pageId,
              image: { source: { $case: 'encoded', value: { data, mediaType: MediaType.MEDIA_TYPE_UNSPECIFIED } } },
              preprocessed: false,
              detectionSets,
              voting: Voting.VOTING_UNSPECIFIED,
              lowConfidenceThreshold: 0,
              filterVersion: '',
              unfiltered: false,
            },
            (err, res) => (err ? reject(err) : resolve(res)),
          );
        });
        assert.deepEqual(answer.servedBy, { modelSet: 'smoke', version: run });
        assert.equal(answer.filterVersion, run);
        assert.ok(answer.characters.length > 0, 'characters recognised');
      } finally {
        client.close();
        await store.close();
      }
      await stop(first.child);

      const began = performance.now();
      const second = await startUntilReady(t, dataDir, 60_000);
      const seconds = (performance.now() - began) / 1000;
      assert.deepEqual(
        second.events.map((e) => e.event),
        ['started', 'ready'],
        'no run the second time',
      );
      assert.deepEqual([second.events[1]!.modelSetVersion, second.events[1]!.filterVersion], [run, run]);
      assert.ok(seconds < 30, `the second start was ready in ${seconds.toFixed(1)} s`);
      await stop(second.child);
      console.log(
        `first start ready after ${String(ready.seconds)} s of its own; second start ready in ${seconds.toFixed(1)} s`,
      );
    },
  );
});
