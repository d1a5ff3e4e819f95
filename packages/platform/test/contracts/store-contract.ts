/**
 * The Store contract: one suite, the same test names, run against every implementation
 * (store-fs.test.ts, store-s3.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { IntegrityError } from '@kzr/core';

import { NotFoundError, type Store, ValidationError } from '@kzr/platform';

/** How a suite gets stores of one implementation. */
export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Replaces the stored bytes of `key` behind the store's back (simulated corruption). */
  corrupt(store: Store, key: string, bytes: Uint8Array): Promise<void>;
  /** Names of leftovers an aborted put may have left (temporary files, open uploads). */
  leftovers(store: Store): Promise<string[]>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function* chunked(data: Buffer, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    yield data.subarray(offset, offset + chunkSize);
    await Promise.resolve();
  }
}

/** Defines the contract suite for one implementation. */
export function storeContract(name: string, harness: StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('puts a buffer, returns the sha256 it computed and reads the same bytes back', async () => {
      const data = bytes(4096, 1);
      const result = await store.put('datasets/a/pages/p1.jpg', data, { contentType: 'image/jpeg' });
      assert.deepEqual(result, { key: 'datasets/a/pages/p1.jpg', size: 4096, sha256: sha256(data) });
      assert.deepEqual(await store.getBytes('datasets/a/pages/p1.jpg', { sha256: result.sha256 }), data);
      const empty = await store.put('empty', new Uint8Array(0));
      assert.equal(empty.sha256, sha256(new Uint8Array(0)));
      assert.equal((await store.getBytes('empty')).length, 0);
    });

    it('streams a 10 MB upload of unknown size in parts and reads it back verified', async () => {
      const data = bytes(10 * 1024 * 1024 + 123, 2);
      const result = await store.put(
        'runs/r1/first-train/m1/epoch-0001/weights.bin',
        Readable.from(chunked(data, 256 * 1024)),
      );
      assert.equal(result.size, data.length);
      assert.equal(result.sha256, sha256(data));
      const info = await store.stat('runs/r1/first-train/m1/epoch-0001/weights.bin');
      assert.equal(info.size, data.length);
      assert.equal(info.sha256, result.sha256);
      const back = await store.getBytes('runs/r1/first-train/m1/epoch-0001/weights.bin', { sha256: result.sha256 });
      assert.ok(back.equals(data));
    });

    it('reads a byte range', async () => {
      const data = bytes(10_000, 3);
      await store.put('r/range.bin', data);
      const read = async (start: number, end?: number): Promise<Buffer> => {
        const chunks: Buffer[] = [];
        for await (const c of await store.get('r/range.bin', {
          range: end === undefined ? { start } : { start, end },
        })) {
          chunks.push(c as Buffer);
        }
        return Buffer.concat(chunks);
      };
      assert.deepEqual(await read(100, 199), data.subarray(100, 200));
      assert.deepEqual(await read(9990), data.subarray(9990));
      assert.deepEqual(await read(0, 0), data.subarray(0, 1));
      await assert.rejects(
        store.get('r/range.bin', { range: { start: 0, end: 9 }, sha256: sha256(data) }),
        ValidationError,
      );
    });

    it('stats size, sha256, content type and metadata, and reports missing objects', async () => {
      const data = Buffer.from('{"version":1}');
      const put = await store.put('models/set/1/manifest.json', data, {
        contentType: 'application/json',
        metadata: { run: '42', 'model-set': 'kuzushiji' },
      });
      const info = await store.stat('models/set/1/manifest.json');
      assert.equal(info.key, 'models/set/1/manifest.json');
      assert.equal(info.size, data.length);
      assert.equal(info.sha256, put.sha256);
      assert.equal(info.contentType, 'application/json');
      assert.deepEqual({ ...info.metadata }, { run: '42', 'model-set': 'kuzushiji' });
      assert.ok(Math.abs(info.lastModified.getTime() - Date.now()) < 60_000);
      await assert.rejects(store.stat('models/set/1/missing.json'), NotFoundError);
      await assert.rejects(store.get('models/set/1/missing.json'), NotFoundError);
    });

    it('lists objects under a prefix in key order', async () => {
      for (const key of [
        'crops/d/train/shard-00002.bin',
        'crops/d/train/index.json',
        'crops/d/train/shard-00001.bin',
        'crops/d/val/index.json',
        'crops/e/index.json',
        'crops/dd.bin',
      ]) {
        await store.put(key, Buffer.from(key));
      }
      assert.deepEqual(
        (await store.list('crops/d/train/')).map((o) => o.key),
        ['crops/d/train/index.json', 'crops/d/train/shard-00001.bin', 'crops/d/train/shard-00002.bin'],
      );
      assert.deepEqual(
        (await store.list('crops/d')).map((o) => o.key),
        [
          'crops/d/train/index.json',
          'crops/d/train/shard-00001.bin',
          'crops/d/train/shard-00002.bin',
          'crops/d/val/index.json',
          'crops/dd.bin',
        ],
      );
      const listed = await store.list('crops/e/');
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.size, 'crops/e/index.json'.length);
      assert.equal(listed[0]!.sha256, sha256(Buffer.from('crops/e/index.json')));
      assert.equal((await store.list('')).length, 6);
      assert.deepEqual(await store.list('nothing/'), []);
    });

    it('leaves nothing listed when the stream of a put fails midway', async () => {
      const data = bytes(7 * 1024 * 1024, 4);
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield* chunked(data.subarray(0, 6 * 1024 * 1024), 512 * 1024);
        throw new Error('upstream went away');
      }
      await assert.rejects(store.put('partial/big.bin', Readable.from(failing())), /upstream went away/);
      const aborted = new AbortController();
      const slow = Readable.from(
        (async function* () {
          yield data.subarray(0, 1024);
          aborted.abort();
          await new Promise((resolve) => setTimeout(resolve, 50));
          yield data.subarray(1024, 2048);
        })(),
      );
      await assert.rejects(store.put('partial/aborted.bin', slow, { signal: aborted.signal }));
      assert.deepEqual(await store.list('partial/'), []);
      await assert.rejects(store.stat('partial/big.bin'), NotFoundError);
      assert.deepEqual(await harness.leftovers(store), []);
    });

    it('fails verification of a corrupted object with an IntegrityError', async () => {
      const data = bytes(100_000, 5);
      const put = await store.put('filters/v1/model.txt', data);
      const damaged = Buffer.from(data);
      damaged[50_000] = damaged[50_000]! ^ 0xff;
      await harness.corrupt(store, 'filters/v1/model.txt', damaged);
      await assert.rejects(store.getBytes('filters/v1/model.txt', { sha256: put.sha256 }), (err: unknown) => {
        assert.ok(err instanceof IntegrityError);
        assert.equal(err.field, 'filters/v1/model.txt');
        assert.equal(err.check, 'sha256');
        assert.equal(err.expected, put.sha256);
        assert.equal(err.actual, sha256(damaged));
        return true;
      });
      // Unverified reads still work (they are the caller's choice).
      assert.equal((await store.getBytes('filters/v1/model.txt')).length, data.length);
    });

    it('holds a key beside a key whose folder starts with its name (a, a.json/b) (issue 22, finding 10)', async () => {
      const a = await store.put('x/a', Buffer.from('a'), { metadata: { who: 'a' } });
      const b = await store.put('x/a.json/b', Buffer.from('b'), { metadata: { who: 'b' } });
      assert.equal((await store.getBytes('x/a', { sha256: a.sha256 })).toString(), 'a');
      assert.equal((await store.getBytes('x/a.json/b', { sha256: b.sha256 })).toString(), 'b');
      assert.deepEqual((await store.stat('x/a')).metadata, { who: 'a' });
      assert.deepEqual(
        (await store.list('x/')).map((o) => [o.key, o.sha256]),
        [
          ['x/a', a.sha256],
          ['x/a.json/b', b.sha256],
        ],
      );
    });

    it('refuses a key with an object above or below it in its path (a and a/b), with one error (issue 22, finding 10)', async () => {
      await store.put('n/a', Buffer.from('a'));
      await assert.rejects(
        store.put('n/a/b', Buffer.from('b')),
        /"n\/a\/b" cannot be stored beside an object above or below it/,
      );
      await store.put('m/a/b', Buffer.from('b'));
      await assert.rejects(
        store.put('m/a', Buffer.from('a')),
        /"m\/a" cannot be stored beside an object above or below it/,
      );
      await assert.rejects(store.copy('m/a/b', 'n/a/c'), /"n\/a\/c" cannot be stored beside/);
      assert.deepEqual(
        (await store.list('n/')).map((o) => o.key),
        ['n/a'],
      );
    });

    it('replaces an object on a second put of the same key', async () => {
      await store.put('results/r/report.json', Buffer.from('old'));
      const second = await store.put('results/r/report.json', Buffer.from('newer'));
      assert.equal((await store.getBytes('results/r/report.json', { sha256: second.sha256 })).toString(), 'newer');
      assert.equal((await store.stat('results/r/report.json')).sha256, second.sha256);
      assert.equal((await store.list('results/')).length, 1);
    });

    it('copies an object with its content type, metadata and sha256, leaving the source', async () => {
      const data = bytes(70_000, 6);
      const put = await store.put('runs/r1/first-train/m1/epoch-0002/weights.bin', data, {
        contentType: 'application/x-weights',
        metadata: { epoch: '2' },
      });
      // Over an existing object, as the best checkpoint is replaced epoch after epoch.
      await store.put('runs/r1/first-train/m1/best/weights.bin', Buffer.from('older best'));
      const copied = await store.copy(
        'runs/r1/first-train/m1/epoch-0002/weights.bin',
        'runs/r1/first-train/m1/best/weights.bin',
      );
      assert.deepEqual(copied, {
        key: 'runs/r1/first-train/m1/best/weights.bin',
        size: data.length,
        sha256: put.sha256,
      });
      assert.deepEqual(await store.getBytes('runs/r1/first-train/m1/best/weights.bin', { sha256: put.sha256 }), data);
      const info = await store.stat('runs/r1/first-train/m1/best/weights.bin');
      assert.deepEqual(
        [info.sha256, info.size, info.contentType, info.metadata],
        [put.sha256, data.length, 'application/x-weights', { epoch: '2' }],
      );
      assert.deepEqual(await store.getBytes('runs/r1/first-train/m1/epoch-0002/weights.bin'), data);
      await assert.rejects(store.copy('runs/r1/missing.bin', 'runs/r1/copy.bin'), NotFoundError);
      await assert.rejects(store.stat('runs/r1/copy.bin'), NotFoundError);
      await assert.rejects(
        store.copy('runs/r1/first-train/m1/epoch-0002/weights.bin', 'a/../b'),
        (err: unknown) => err instanceof ValidationError && err.field === 'key',
      );
      assert.deepEqual(await harness.leftovers(store), []);
    });

    it('deletes objects, and deleting a missing one is not an error', async () => {
      await store.put('tmp/a', Buffer.from('a'));
      await store.put('tmp/b', Buffer.from('b'));
      await store.delete('tmp/a');
      await store.delete('tmp/never');
      assert.deepEqual(
        (await store.list('tmp/')).map((o) => o.key),
        ['tmp/b'],
      );
      await assert.rejects(store.getBytes('tmp/a'), NotFoundError);
    });

    it('rejects bad keys and options with a ValidationError naming them', async () => {
      for (const key of ['', '/abs', 'a//b', 'a/../b', 'a/./b', 'trailing/', 'back\\slash', '.kzr-tmp/x']) {
        await assert.rejects(
          store.put(key, Buffer.from('x')),
          (err: unknown) => err instanceof ValidationError && err.field === 'key',
          key,
        );
      }
      await assert.rejects(store.put('k', Buffer.from('x'), { metadata: { 'Bad Key': 'v' } }), ValidationError);
      await assert.rejects(store.get('k', { sha256: 'abc' }), ValidationError);
      assert.deepEqual(await store.list(''), []);
    });
  });
}
