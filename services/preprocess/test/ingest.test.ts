// All-or-nothing ingest (issue 22, findings 2, 6 and 8): every page is checked (a regular file,
// a known format, whole to its end) before the first object is written, each error names the
// file, and a failure while storing leaves the dataset as it was.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { encodePng } from '@kzr/imaging';
import { FsStore, MemoryBus, type Store } from '@kzr/platform';

import { ingestKaggleDir } from '@kzr/preprocess';

let root: string;
let png: Buffer;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kzr-ingest-'));
  png = await encodePng({ width: 8, height: 6, channels: 3, data: new Uint8Array(8 * 6 * 3).fill(200) });
});

after(() => rm(root, { recursive: true, force: true }));

/** A Kaggle folder with page `a.png` and whatever `add` puts in `train_images/`. */
async function kaggleDir(name: string, add: (images: string) => Promise<void>): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'train_images'), { recursive: true });
  await writeFile(join(dir, 'train_images', 'a.png'), png);
  await add(join(dir, 'train_images'));
  return dir;
}

async function ingest(sourceDir: string, store: Store): Promise<unknown> {
  await using bus = new MemoryBus();
  return ingestKaggleDir({ sourceDir, dataset: 'd', store, bus });
}

async function storedKeys(store: Store): Promise<string[]> {
  return (await store.list('datasets/')).map((o) => o.key).sort();
}

describe('data ingest', () => {
  it('refuses a bad page before storing anything, naming the file, within seconds', async () => {
    const cases: Array<[string, (images: string) => Promise<void>, RegExp]> = [
      [
        'truncated',
        (d) => writeFile(join(d, 'b.png'), png.subarray(0, png.length - 20)),
        /b\.png: truncated: no PNG IEND/,
      ],
      [
        'truncated-jpeg',
        (d) => writeFile(join(d, 'b.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3])),
        /b\.jpg: truncated: no JPEG end marker/,
      ],
      ['folder', (d) => mkdir(join(d, 'x.jpg')), /x\.jpg: not a regular file/],
      ['dangling', (d) => symlink(join(d, 'gone.png'), join(d, 'b.png')), /b\.png: cannot read: ENOENT/],
      ['backslash', (d) => writeFile(join(d, 'zzz\\1.png'), png), /zzz\\1\.png: expected a name/],
      // A FIFO's open would wait for a writer for ever (finding 8).
      ['fifo', async (d) => void execFileSync('mkfifo', [join(d, 'b.jpg')]), /b\.jpg: not a regular file/],
    ];
    for (const [name, add, expected] of cases) {
      const store = new FsStore({ root: join(root, `store-${name}`) });
      const t0 = performance.now();
      await assert.rejects(ingest(await kaggleDir(name, add), store), expected, name);
      assert.ok(performance.now() - t0 < 5000, name);
      assert.deepEqual(await storedKeys(store), [], `${name}: nothing stored`);
      await store.close();
    }
  });

  it('refuses train.csv as a folder with a clear error', async () => {
    const dir = await kaggleDir('csv-folder', async () => {});
    await mkdir(join(dir, 'train.csv'));
    const store = new FsStore({ root: join(root, 'store-csv-folder') });
    await assert.rejects(ingest(dir, store), /train\.csv: not a regular file/);
    await store.close();
  });

  it('removes the objects it added when storing fails half-way, and keeps what was there', async () => {
    const dir = await kaggleDir('half', (d) => writeFile(join(d, 'b.png'), png));
    const store = new FsStore({ root: join(root, 'store-half') });
    await store.put('datasets/d/pages/a.png', png); // an earlier ingest's page
    let puts = 0;
    // The real Store, whose second put fails.
    const failing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'put') {
          return (...args: Parameters<Store['put']>) =>
            ++puts === 2 ? Promise.reject(new Error('disk full')) : target.put(...args);
        }
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await assert.rejects(ingest(dir, failing), /disk full/);
    assert.deepEqual(await storedKeys(store), ['datasets/d/pages/a.png']);
    await store.close();
  });
});
