import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { datasetLabelsKey, datasetPageKey, datasetPagesPrefix } from '@kzr/artifacts';
import {
  benFilter,
  cropRaw,
  decodeImage,
  denoiseColoredSync,
  encodePng,
  paddedBox,
  PaddingPolicy,
  type RawImage,
  resizeBicubic,
  toGrayscale,
} from '@kzr/imaging';
import { FsStore } from '@kzr/platform';

import { runKzr, tempDir } from './kzr-cli.js';

function seededPage(width: number, height: number, seed: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = ((i / 3) % width) % 13 < 3 ? 50 + ((s >>> 20) % 20) : 200 + ((s >>> 20) % 40);
  }
  return { width, height, channels: 3, data };
}

describe('kzr preprocess page', () => {
  it('writes the Ben + denoised page as an RGB PNG of the same size', async (t) => {
    const dir = await tempDir(t, 'kzr-pre-');
    const page = seededPage(48, 36, 3);
    await writeFile(join(dir, 'in.png'), await encodePng(page));
    const res = await runKzr(['preprocess', 'page', join(dir, 'in.png'), join(dir, 'out.png'), '--threads', '1']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(
      (({ width, height }) => [width, height])(JSON.parse(res.stdout) as { width: number; height: number }),
      [48, 36],
    );
    const out = await decodeImage(await readFile(join(dir, 'out.png')));
    assert.deepEqual(out.data, denoiseColoredSync(await benFilter(page, 1)).data);
    const skip = await runKzr([
      'preprocess',
      'page',
      join(dir, 'in.png'),
      join(dir, 'same.png'),
      '--no-ben',
      '--no-denoise',
    ]);
    assert.equal(skip.code, 0, skip.stderr);
    assert.deepEqual((await decodeImage(await readFile(join(dir, 'same.png')))).data, page.data);
  });

  it('exits 2 on a corrupt image and writes nothing', async (t) => {
    const dir = await tempDir(t, 'kzr-pre-');
    await writeFile(join(dir, 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const res = await runKzr(['preprocess', 'page', join(dir, 'bad.jpg'), join(dir, 'out.png')]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^kzr: <in>: corrupt jpeg image/);
    assert.deepEqual(await readdir(dir), ['bad.jpg']);
  });
});

describe('kzr preprocess crops', () => {
  it('cuts padded, resized grayscale crops and lists them', async (t) => {
    const dir = await tempDir(t, 'kzr-pre-');
    await mkdir(join(dir, 'images'));
    const page = seededPage(60, 50, 9);
    await writeFile(join(dir, 'images', 'b1_00001_1.png'), await encodePng(page));
    await writeFile(join(dir, 'train.csv'), 'image_id,labels\nb1_00001_1,U+3042 10 10 20 30 U+3044 30 5 25 25\n');
    const res = await runKzr([
      'preprocess',
      'crops',
      '--labels',
      join(dir, 'train.csv'),
      '--images',
      join(dir, 'images'),
      '--out',
      join(dir, 'crops'),
      '--policy',
      'infer',
      '--size',
      '24',
      '--channels',
      '1',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { crops: number }).crops, 2);
    const list = (await readFile(join(dir, 'crops', 'crops.csv'), 'utf8')).trim().split('\n');
    assert.equal(list.length, 3);
    const box = paddedBox({ x: 10, y: 10, width: 20, height: 30 }, PaddingPolicy.Infer, 60, 50);
    const rel = 'U+3042/b1_00001_1_0.png';
    assert.equal(list[1], `U+3042,${rel}`);
    const crop = await decodeImage(await readFile(join(dir, 'crops', rel)), { channels: 1 });
    assert.deepEqual(crop.data, resizeBicubic(toGrayscale(cropRaw(page, box)), 24, 24).data);
  });

  it("removes the staging a killed run left, not a running one's (issue 22, finding 10)", async (t) => {
    const dir = await tempDir(t, 'kzr-pre-');
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'images', 'b1_00001_1.png'), await encodePng(seededPage(30, 30, 1)));
    await writeFile(join(dir, 'train.csv'), 'image_id,labels\nb1_00001_1,U+3042 10 10 5 5\n');
    // No process has pid 2^31 - 2 (above Linux's pid_max); this test's own process is alive.
    await mkdir(join(dir, 'crops.partial-2147483646', 'U+3042'), { recursive: true });
    await writeFile(join(dir, 'crops.partial-2147483646', 'U+3042', 'x.png'), 'left by a killed run');
    await mkdir(join(dir, `crops.partial-${process.pid}`));
    const res = await runKzr([
      'preprocess',
      'crops',
      '--labels',
      join(dir, 'train.csv'),
      '--images',
      join(dir, 'images'),
      '--out',
      join(dir, 'crops'),
      '--policy',
      'train',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual((await readdir(dir)).sort(), ['crops', `crops.partial-${process.pid}`, 'images', 'train.csv']);
  });

  it('exits 2 for a box outside its page and leaves no output', async (t) => {
    const dir = await tempDir(t, 'kzr-pre-');
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'images', 'b1_00001_1.png'), await encodePng(seededPage(30, 30, 1)));
    await writeFile(join(dir, 'train.csv'), 'image_id,labels\nb1_00001_1,U+3042 10 10 5 5 U+3044 25 25 10 10\n');
    const res = await runKzr([
      'preprocess',
      'crops',
      '--labels',
      join(dir, 'train.csv'),
      '--images',
      join(dir, 'images'),
      '--out',
      join(dir, 'crops'),
      '--policy',
      'train',
    ]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /labels\[1\].*outside the 30x30 page/);
    assert.deepEqual((await readdir(dir)).sort(), ['images', 'train.csv']);
  });
});

describe('kzr data ingest', () => {
  it('stores the folder under datasets/<name>/ in the embedded Store', async (t) => {
    const dir = await tempDir(t, 'kzr-pre-');
    await mkdir(join(dir, 'kaggle', 'train_images'), { recursive: true });
    await writeFile(join(dir, 'kaggle', 'train_images', 'b1_00001_1.png'), await encodePng(seededPage(20, 20, 4)));
    await writeFile(join(dir, 'kaggle', 'train.csv'), 'image_id,labels\nb1_00001_1,U+3042 1 1 5 5\n');
    const res = await runKzr(['data', 'ingest', join(dir, 'kaggle'), '--dataset', 'mini'], {
      KZR_DATA_DIR: join(dir, 'data'),
    });
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { pages: number; labelsKey: string; store: string };
    assert.deepEqual([out.pages, out.labelsKey, out.store], [1, datasetLabelsKey('mini'), 'fs']);
    // The same Store `kzr start` opens: the filesystem Store under the data directory.
    const store = await FsStore.open({ root: join(dir, 'data', 'store') });
    assert.equal(
      (await store.getBytes(datasetLabelsKey('mini'))).toString(),
      'image_id,labels\nb1_00001_1,U+3042 1 1 5 5\n',
    );
    assert.deepEqual(
      (await store.list(datasetPagesPrefix('mini'))).map((o) => o.key),
      [datasetPageKey('mini', 'b1_00001_1', '.png')],
    );
    await store.close();
    const bad = await runKzr(['data', 'ingest', join(dir, 'kaggle'), '--dataset', '../escape'], {
      KZR_DATA_DIR: join(dir, 'data'),
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--dataset: expected a name/);
  });
});
