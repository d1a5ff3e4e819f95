/**
 * Scale to zero and back, as KEDA does it, through real servers (nats-server with its monitoring
 * port, the S3 server) and real preprocess main processes: `kzr.pages.ingested` events published
 * while no worker runs wait on the durable consumer `preprocess` (its pending count, read from
 * the monitoring endpoint KEDA's JetStream scaler reads, counts them); a worker started afterwards
 * drains the backlog; one stopped with SIGTERM in the middle returns the dataset it was on, and a
 * second worker finishes. Every page's crops are stored exactly once and each dataset gets one
 * `kzr.crops.ready`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { cropIndexKey, cropsPrefix, datasetLabelsKey, datasetPageKey, preprocessedPageKey } from '@kzr/artifacts';
import { encodePng, parseShardIndex, type RawImage } from '@kzr/imaging';
import { EventSubject, freePort, NatsBus, S3Store } from '@kzr/platform';
import { preprocessDurable } from '@kzr/preprocess';
import { NatsServer, S3Server, waitForExit } from '@kzr/testkit';

/** The built main, as the image runs it (`tsc --build` makes it; the suite builds first). */
const preprocessMain = fileURLToPath(new URL('../services/preprocess/dist/src/main.js', import.meta.url));

const datasets = ['sz-a', 'sz-b', 'sz-c'];
const pagesPerDataset = 6;
/** Two labelled characters per page. */
const labelsPerPage = 2;

/** A page with dark vertical strokes on paper, different per seed. */
function page(seed: number): RawImage {
  const [width, height] = [360, 480];
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = ((i / 3) % width) % 13 < 4 ? 40 + ((s >>> 20) % 30) : 190 + ((s >>> 20) % 50);
  }
  return { width, height, channels: 3, data };
}

const pageId = (dataset: string, n: number): string => `200003076_${dataset.slice(-1)}000${n}_1`;

let nats: NatsServer;
let monitorPort = 0;
let s3: S3Server;
let dataDir = '';
const children: ChildProcess[] = [];

before(async () => {
  monitorPort = await freePort();
  [nats, s3] = await Promise.all([
    NatsServer.start({ extraConfig: [`http: "127.0.0.1:${monitorPort}"`] }),
    S3Server.start({ buckets: ['kzr'] }),
  ]);
  dataDir = await mkdtemp(join(tmpdir(), 'kzr-scale-'));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all([nats[Symbol.asyncDispose](), s3[Symbol.asyncDispose]()]);
  await rm(dataDir, { recursive: true, force: true });
});

/** A preprocess worker as the chart runs it: the standalone main on NATS and S3. */
function startWorker(): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, ['--conditions=production', preprocessMain], {
    env: {
      ...process.env,
      KZR_DATA_DIR: dataDir,
      KZR_BUS: 'nats',
      KZR_NATS_URL: nats.url,
      KZR_STORE: 's3',
      KZR_S3_ENDPOINT: s3.endpoint,
      KZR_S3_ACCESS_KEY: S3Server.accessKey,
      KZR_S3_SECRET_KEY: S3Server.secretKey,
      KZR_GRPC_PORT: '0',
      KZR_PREPROCESS_THREADS: '1',
      // Short, so the SIGTERM lands while a dataset is still being preprocessed.
      KZR_SHUTDOWN_GRACE_MS: '100',
      KZR_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, log: () => stderr };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * The durable's lag from the monitoring endpoint as KEDA's JetStream scaler reads it: messages
 * not yet delivered plus delivered ones not acknowledged (a returned one counts until redelivered).
 */
async function consumerLag(): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/jsz?acc=$G&consumers=true&config=true`);
  const body = (await response.json()) as {
    account_details?: Array<{
      stream_detail?: Array<{
        name: string;
        consumer_detail?: Array<{ name: string; num_pending: number; num_ack_pending: number }>;
      }>;
    }>;
  };
  const consumer = body.account_details
    ?.flatMap((a) => a.stream_detail ?? [])
    .find((s) => s.name === 'KZR')
    ?.consumer_detail?.find((c) => c.name === preprocessDurable);
  return consumer && consumer.num_pending + consumer.num_ack_pending;
}

describe('preprocess scales from zero on its durable consumer', () => {
  it('drains a backlog published while no worker ran; a worker stopped by SIGTERM mid-way loses nothing', async () => {
    await using store = await S3Store.connect({
      endpoint: s3.endpoint,
      accessKey: S3Server.accessKey,
      secretKey: S3Server.secretKey,
      bucket: 'kzr',
    });
    await using bus = await NatsBus.connect({ servers: nats.url, name: 'scale-test' });

    // The first replica of an install made the durable; KEDA then scaled the worker to zero.
    const first = startWorker();
    await until('the first worker serving', () => first.log().includes('"service started"'), 60_000);
    first.child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(first.child, 20_000), { code: 0, signal: null }, first.log());

    // Arrange: pages and labels stored, one kzr.pages.ingested per dataset, no worker running.
    for (const [d, dataset] of datasets.entries()) {
      const rows: string[] = [];
      for (let n = 1; n <= pagesPerDataset; n++) {
        const id = pageId(dataset, n);
        await store.put(datasetPageKey(dataset, id, '.png'), await encodePng(page(d * 10 + n)));
        rows.push(`${id},U+3042 10 10 40 44 U+3044 200 300 36 40`);
      }
      await store.put(datasetLabelsKey(dataset), Buffer.from(`image_id,labels\n${rows.join('\n')}\n`));
    }
    const readyEvents: Array<{ dataset: string; cropCount: number }> = [];
    await using _ready = await bus.consume(
      { durable: 'scale-watch-ready', filterSubject: EventSubject.CropsReady },
      async (m) => {
        readyEvents.push({ dataset: m.event.dataset, cropCount: m.event.cropCount });
      },
    );
    const deadLetters: string[] = [];
    await using _dlq = await bus.consume({ durable: 'scale-watch-dlq', filterSubject: 'kzr.dlq.>' }, async (m) => {
      deadLetters.push(m.subject);
    });
    for (const dataset of datasets) {
      await bus.publish(
        EventSubject.PagesIngested,
        {
          meta: undefined,
          dataset,
          pageIds: Array.from({ length: pagesPerDataset }, (_v, i) => pageId(dataset, i + 1)),
          labelsKey: datasetLabelsKey(dataset),
          unicodeTranslationKey: '',
          detectionKeys: [],
        },
        { id: `ingested-${dataset}` },
      );
    }
    await sleep(300);
    assert.equal(await consumerLag(), datasets.length, 'the backlog KEDA scales on');

    // Act 1: a worker scaled up from zero takes the backlog; SIGTERM reaches it after the first
    // page of the second dataset (first deliveries come in publish order).
    const second = startWorker();
    await until(
      'the second dataset begun',
      () =>
        store.stat(preprocessedPageKey(datasets[1]!, pageId(datasets[1]!, 1))).then(
          () => true,
          () => false,
        ),
      90_000,
    );
    second.child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(second.child, 20_000), { code: 0, signal: null }, second.log());
    assert.match(second.log(), /delivery returned: the subscriber drains/, 'stopped in the middle of a dataset');
    const doneBySecond = readyEvents.length;
    assert.ok(doneBySecond < datasets.length, 'work was left for the next worker');
    // Every dataset without its kzr.crops.ready still counts for KEDA (one whose ack the grace cut
    // off counts too: it is done again, with the same outputs).
    const lag = (await consumerLag()) ?? 0;
    assert.ok(lag >= datasets.length - doneBySecond && lag <= datasets.length, `lag ${lag}`);

    // Act 2: another worker finishes the backlog.
    const third = startWorker();
    await until('every dataset done', () => readyEvents.length >= datasets.length, 90_000);
    // Within the test's time, so the returned dataset did not wait out its ten-minute ack wait.
    await until('the durable drained', async () => (await consumerLag()) === 0, 10_000);
    await sleep(500);
    third.child.kill('SIGTERM');
    assert.deepEqual(await waitForExit(third.child, 20_000), { code: 0, signal: null }, third.log());

    // Assert: every page's crops stored exactly once, one kzr.crops.ready per dataset, no dead letter.
    assert.deepEqual(readyEvents.map((e) => e.dataset).sort(), datasets);
    assert.deepEqual(deadLetters, []);
    for (const dataset of datasets) {
      const index = parseShardIndex(
        JSON.parse((await store.getBytes(cropIndexKey(dataset, 'train'))).toString('utf8')),
      );
      assert.equal(index.count, pagesPerDataset * labelsPerPage, dataset);
      const crops = index.records.map((r) => `${r.page}:${r.box.join(',')}`);
      assert.equal(new Set(crops).size, crops.length, `${dataset}: no crop stored twice`);
      assert.deepEqual(
        [...new Set(index.records.map((r) => r.page))].sort(),
        Array.from({ length: pagesPerDataset }, (_v, i) => pageId(dataset, i + 1)),
      );
      const stored = (await store.list(cropsPrefix(dataset, 'train'))).map((o) => o.key).sort();
      const listed = [
        ...index.shards.map((s) => `${cropsPrefix(dataset, 'train')}${s}`),
        cropIndexKey(dataset, 'train'),
      ];
      assert.deepEqual(stored, listed.sort(), `${dataset}: no shard left over from the stopped worker`);
    }
  });
});
