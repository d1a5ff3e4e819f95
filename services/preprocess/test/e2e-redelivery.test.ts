// End to end through real servers: nats-server (JetStream) and an S3 server behind the Store.
// A worker replica process dies (SIGKILL) after storing its outputs and before acking; a second
// replica on the same durable gets the redelivery. The shards must be unchanged and the stream
// must hold exactly one kzr.crops.ready.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { cropIndexKey, cropsPrefix } from '@kzr/artifacts';
import { encodePng, type RawImage } from '@kzr/imaging';
import { EventSubject, NatsBus, S3Store } from '@kzr/platform';
import { NatsServer, S3Server, waitForExit } from '@kzr/testkit';

import { ingestKaggleDir } from '@kzr/preprocess';

const replica = fileURLToPath(new URL('fixtures/worker-process.ts', import.meta.url));

function page(width: number, height: number, seed: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = ((i / 3) % width) % 11 < 3 ? 40 + ((s >>> 20) % 30) : 190 + ((s >>> 20) % 50);
  }
  return { width, height, channels: 3, data };
}

let nats: NatsServer;
let s3: S3Server;
let dir: string;
const children: ChildProcess[] = [];

before(async () => {
  [nats, s3] = await Promise.all([NatsServer.start(), S3Server.start({ buckets: ['kzr'] })]);
  dir = await mkdtemp(join(tmpdir(), 'kzr-e2e-'));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all([nats[Symbol.asyncDispose](), s3[Symbol.asyncDispose]()]);
  await rm(dir, { recursive: true, force: true });
});

function startReplica(die: boolean): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', replica], {
    env: {
      ...process.env,
      KZR_NATS_URL: nats.url,
      KZR_S3_ENDPOINT: s3.endpoint,
      KZR_S3_ACCESS_KEY: S3Server.accessKey,
      KZR_S3_SECRET_KEY: S3Server.secretKey,
      KZR_TEST_DIE_AFTER_STORE: die ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
  return { child, lines };
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('preprocess end to end (NATS JetStream + S3)', () => {
  it('a replica dying after storing and before acking leaves identical shards and one kzr.crops.ready', async () => {
    // Arrange: a tiny labelled dataset, ingested through the real Bus and Store.
    const src = join(dir, 'kaggle');
    await mkdir(join(src, 'train_images'), { recursive: true });
    await writeFile(join(src, 'train_images', '200003076_00001_1.png'), await encodePng(page(60, 44, 1)));
    await writeFile(join(src, 'train_images', '200003076_00002_1.png'), await encodePng(page(50, 40, 2)));
    await writeFile(
      join(src, 'train.csv'),
      'image_id,labels\n200003076_00001_1,U+3042 3 3 12 14 U+3044 30 20 20 18\n200003076_00002_1,U+3046 5 5 25 25\n',
    );
    await using store = await S3Store.connect({
      endpoint: s3.endpoint,
      accessKey: S3Server.accessKey,
      secretKey: S3Server.secretKey,
      bucket: 'kzr',
    });
    await using bus = await NatsBus.connect({ servers: nats.url, name: 'e2e-test' });

    // Act 1: the first replica takes the event and dies after storing.
    const first = startReplica(true);
    await until('the first replica', () => first.lines.includes('ready'), 60_000);
    await ingestKaggleDir({ sourceDir: src, dataset: 'e2e', store, bus });
    const exit = await waitForExit(first.child, 60_000);
    assert.ok(first.lines.includes('stored'), 'the replica stored its outputs before dying');
    assert.equal(exit.signal ?? first.child.signalCode, 'SIGKILL');
    const storedAtDeath = new Map(
      (await store.list(cropsPrefix('e2e', 'train'))).map((o) => [o.key, o.sha256] as const),
    );
    assert.ok(storedAtDeath.has(cropIndexKey('e2e', 'train')));

    // Act 2: a second replica on the same durable receives the redelivery.
    const readyEvents: Array<{ cropCount: number; shardKeys: string[] }> = [];
    await using _watch = await bus.consume(
      { durable: 'e2e-watch', filterSubject: EventSubject.CropsReady },
      async (m) => {
        readyEvents.push(m.event);
        await m.ack();
      },
    );
    startReplica(false);
    await until('kzr.crops.ready', () => readyEvents.length > 0, 90_000);
    await sleep(1500);

    // Assert
    assert.equal(readyEvents.length, 1, 'exactly one kzr.crops.ready in the stream');
    const after = new Map((await store.list(cropsPrefix('e2e', 'train'))).map((o) => [o.key, o.sha256] as const));
    assert.deepEqual(after, storedAtDeath, 'shards and index unchanged (same sha256)');
    const event = readyEvents[0]!;
    assert.equal(event.cropCount, 3);
    for (const key of event.shardKeys) assert.ok(after.has(key));
  });
});
