import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import { cropShardKey, cropsPrefix, datasetPrefix, preprocessedPageKey } from '@kzr/artifacts';
import {
  cutCharacter,
  decodeImage,
  encodePng,
  PaddingPolicy,
  parseShardIndex,
  preprocessPage,
  type RawImage,
  readShardRecordAt,
  readShardRecords,
} from '@kzr/imaging';
import { createLogger, EventSubject, FsStore, MemoryBus } from '@kzr/platform';

import { ingestKaggleDir, startPreprocessWorker } from '@kzr/preprocess';

const silent = createLogger({ write: () => {} });

function seededPage(width: number, height: number, seed: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < width * height; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const x = i % width;
    const ink = x % 17 < 3 ? 60 : 215;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = ink + ((s >>> (8 + c * 4)) % 24);
  }
  return { width, height, channels: 3, data };
}

const pages = [
  { id: '100241706_00001_1', image: seededPage(64, 48, 1) },
  { id: '100241706_00002_2', image: seededPage(56, 40, 2) },
];
const trainCsv = [
  'image_id,labels',
  '100241706_00001_1,U+3042 5 4 10 12 U+3044 20 10 9 15 U+3042 40 30 20 17',
  '100241706_00002_2,U+3046 1 1 30 20',
  '',
].join('\n');

let dir: string;
let store: FsStore;
let bus: MemoryBus;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kzr-worker-'));
  const src = join(dir, 'kaggle');
  await mkdir(join(src, 'train_images'), { recursive: true });
  for (const p of pages) await writeFile(join(src, 'train_images', `${p.id}.png`), await encodePng(p.image));
  await writeFile(join(src, 'train.csv'), trainCsv);
  await writeFile(join(src, 'unicode_translation.csv'), 'Unicode,char\nU+3042,あ\nU+3044,い\nU+3046,う\n');
  store = await FsStore.open({ root: join(dir, 'store') });
  bus = new MemoryBus({ logger: silent });
});

after(async () => {
  await bus.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function shardHashes(keys: readonly string[]): Promise<string[]> {
  return Promise.all(
    keys.map(async (k) =>
      createHash('sha256')
        .update(await store.getBytes(k))
        .digest('hex'),
    ),
  );
}

describe('preprocess worker', () => {
  it('turns kzr.pages.ingested into shards and one kzr.crops.ready, surviving a crash before the ack', async () => {
    // Arrange: a ready-event collector and a worker that "dies" after storing, on its first try.
    const ready: { shardKeys: string[]; indexKey: string; cropCount: number }[] = [];
    await using _collector = await bus.consume(
      { durable: 'test-trainer', filterSubject: EventSubject.CropsReady },
      async (m) => {
        ready.push(m.event);
        await m.ack();
      },
    );
    let crashes = 0;
    let hashesAtCrash: string[] = [];
    await using _worker = await startPreprocessWorker({
      bus,
      store,
      logger: silent,
      threads: 1,
      maxShardBytes: 1500,
      retryDelaysMs: [50],
      afterOutputsStored: async (dataset) => {
        if (crashes > 0) return;
        crashes++;
        const keys = (await store.list(cropsPrefix(dataset, 'train')))
          .map((o) => o.key)
          .filter((k) => k.endsWith('.bin'));
        hashesAtCrash = await shardHashes(keys);
        throw new Error('simulated crash after writing, before acking');
      },
    });

    // Act
    const ingested = await ingestKaggleDir({ sourceDir: join(dir, 'kaggle'), dataset: 'tiny', store, bus });
    assert.deepEqual(
      ingested.pageIds,
      pages.map((p) => p.id),
    );
    for (let i = 0; i < 200 && ready.length === 0; i++) await sleep(50);
    await sleep(300);

    // Assert: redelivered once, one event, identical shards.
    assert.equal(crashes, 1);
    assert.equal(ready.length, 1, 'exactly one kzr.crops.ready');
    const event = ready[0]!;
    assert.equal(event.cropCount, 4);
    assert.ok(event.shardKeys.length > 1, 'small shards: the crops span several files');
    assert.deepEqual(await shardHashes(event.shardKeys), hashesAtCrash);

    const index = parseShardIndex(JSON.parse((await store.getBytes(event.indexKey)).toString('utf8')));
    assert.deepEqual(
      index.records.map((r) => [r.label, r.page, r.book]),
      [
        ['U+3042', pages[0]!.id, '100241706'],
        ['U+3044', pages[0]!.id, '100241706'],
        ['U+3042', pages[0]!.id, '100241706'],
        ['U+3046', pages[1]!.id, '100241706'],
      ],
    );
    // Each record is the training-padded crop of the preprocessed page.
    const pre = await decodeImage(await store.getBytes(preprocessedPageKey('tiny', pages[0]!.id)));
    assert.deepEqual(pre.data, (await preprocessPage(pages[0]!.image, { threads: 1 })).data);
    const rec = index.records[2]!;
    const shard = await store.getBytes(cropShardKey('tiny', 'train', index.shards[rec.shard]!));
    const expected = cutCharacter(pre, { x: 40, y: 30, width: 20, height: 17 }, { policy: PaddingPolicy.Train });
    assert.deepEqual(readShardRecordAt(shard, rec.offset).data, expected.image.data);
    // Read back by streaming from the Store: every record, in index order.
    const streamed: number[] = [];
    for (const key of event.shardKeys) {
      for await (const r of readShardRecords(await store.get(key))) streamed.push(r.image.data.length);
    }
    assert.deepEqual(
      streamed,
      index.records.map((r) => r.h * r.w * r.c),
    );
  });

  it('re-preprocesses a page whose source changed and reuses the others', async () => {
    const ready: { indexKey: string; cropCount: number }[] = [];
    await using _collector = await bus.consume(
      { durable: 'test-trainer-2', filterSubject: EventSubject.CropsReady },
      async (m) => {
        ready.push(m.event);
        await m.ack();
      },
    );
    await using _worker = await startPreprocessWorker({
      bus,
      store,
      logger: silent,
      threads: 1,
      durable: 'preprocess',
      // The first test's run cut smaller shards; those its index no longer lists go (issue 22).
      staleShardMs: 0,
    });
    const shardsBefore = (await store.list(cropsPrefix('tiny', 'train'))).length;
    assert.ok(shardsBefore > 2, `${shardsBefore} objects of the first run`);
    const unchanged = await store.stat(preprocessedPageKey('tiny', pages[1]!.id));
    const changedPage = seededPage(64, 48, 99);
    await writeFile(join(dir, 'kaggle', 'train_images', `${pages[0]!.id}.png`), await encodePng(changedPage));
    await ingestKaggleDir({ sourceDir: join(dir, 'kaggle'), dataset: 'tiny', store, bus });
    for (let i = 0; i < 200 && ready.length < 2; i++) await sleep(50);
    const pre = await decodeImage(await store.getBytes(preprocessedPageKey('tiny', pages[0]!.id)));
    assert.deepEqual(pre.data, (await preprocessPage(changedPage, { threads: 1 })).data);
    const again = await store.stat(preprocessedPageKey('tiny', pages[1]!.id));
    assert.equal(again.lastModified.getTime(), unchanged.lastModified.getTime(), 'the unchanged page was reused');
    assert.deepEqual(
      (await store.list(cropsPrefix('tiny', 'train'))).map((o) => o.key),
      ['crops/tiny/train/index.json', 'crops/tiny/train/shard-00000.bin'],
    );
  });

  it('refuses to ingest a folder with labels for a page that has no image, writing nothing', async () => {
    const src = join(dir, 'bad');
    await mkdir(join(src, 'train_images'), { recursive: true });
    await writeFile(join(src, 'train_images', 'x_1.png'), await encodePng(pages[0]!.image));
    await writeFile(join(src, 'train.csv'), 'image_id,labels\ny_2,U+3042 1 1 2 2\n');
    await assert.rejects(ingestKaggleDir({ sourceDir: src, dataset: 'bad', store, bus }), /labels for page y_2/);
    assert.deepEqual(await store.list(datasetPrefix('bad')), []);
  });
});
