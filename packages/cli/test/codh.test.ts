import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { datasetLabelsKey } from '@kzr/artifacts';
import { codhToPageLabels, parseCodhCoordinates, parseTrainCsv } from '@kzr/core';
import { createRawImage, encodePng } from '@kzr/imaging';
import { FsStore } from '@kzr/platform';

import { repoRoot, runKzr, tempDir } from './kzr-cli.js';

const coordinates = join(repoRoot, '../shared/data/codh/100241706_00004_2.coordinate.csv');
const page = '100241706_00004_2';

/** A CODH book folder holding the real page's coordinates and a blank 2400x3900 page image. */
async function codhBook(dir: string): Promise<string> {
  const book = join(dir, '100241706');
  await mkdir(join(book, 'images'), { recursive: true });
  await copyFile(coordinates, join(book, '100241706_coordinate.csv'));
  const blank = createRawImage(2400, 3900, 3);
  blank.data.fill(255);
  await writeFile(join(book, 'images', `${page}.png`), await encodePng(blank));
  return book;
}

describe('CODH datasets', () => {
  it('kzr data ingest --format codh stores a CODH book as the same dataset form, with its 67 characters', async (t) => {
    const dir = await tempDir(t);
    const book = await codhBook(dir);
    const env = { KZR_DATA_DIR: join(dir, 'data') };
    const res = await runKzr(['data', 'ingest', '--format', 'codh', book, '--dataset', 'codh-book'], env);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.equal(out['pages'], 1);
    assert.deepEqual(out['detectionKeys'], []);
    assert.equal(out['unicodeTranslationKey'], '');
    const store = new FsStore({ root: join(dir, 'data', 'store') });
    const stored = parseTrainCsv((await store.getBytes(datasetLabelsKey('codh-book'))).toString('utf8'));
    const expected = codhToPageLabels(parseCodhCoordinates(await readFile(coordinates, 'utf8')));
    assert.equal(stored[0]!.labels.length, 67);
    assert.deepEqual(stored, expected);

    // The folder above the book is read as a folder of books, with the same result.
    const again = await runKzr(['data', 'ingest', '--format', 'codh', dir, '--dataset', 'codh-book'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { eventId: string }).eventId, out['eventId']);
  });

  it('kzr data ingest --format codh refuses characters of a page without an image, storing nothing', async (t) => {
    const dir = await tempDir(t);
    const book = await codhBook(dir);
    await writeFile(
      join(book, '100241706_coordinate.csv'),
      `${await readFile(coordinates, 'utf8')}U+3042,100241706_00005,10,10,B0001,C0001,20,20\n`,
    );
    const res = await runKzr(['data', 'ingest', '--format', 'codh', book, '--dataset', 'x'], {
      KZR_DATA_DIR: join(dir, 'data'),
    });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /100241706_coordinate\.csv: characters of page 100241706_00005, which has no image/);
  });

  it("kzr order reads a CODH coordinate file and gives CODH's Char ID order", async () => {
    const res = await runKzr(['order', '--labels', coordinates, '--page', page]);
    assert.equal(res.code, 0, res.stderr);
    const chars = parseCodhCoordinates(await readFile(coordinates, 'utf8'));
    const ordered = (JSON.parse(res.stdout) as { characters: Array<{ x: number; y: number; code: string }> })
      .characters;
    const charIds = ordered.map((c) => chars.find((r) => r.x === c.x && r.y === c.y && r.code === c.code)!.charId);
    assert.equal(charIds.length, 67);
    assert.deepEqual(charIds, [...charIds].sort());
  });

  it('kzr preprocess crops cuts the characters of a CODH coordinate file', async (t) => {
    const dir = await tempDir(t);
    const book = await codhBook(dir);
    const res = await runKzr([
      'preprocess',
      'crops',
      '--labels',
      join(book, '100241706_coordinate.csv'),
      '--images',
      join(book, 'images'),
      '--out',
      join(dir, 'crops'),
      '--policy',
      'infer',
      '--size',
      '32',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual((JSON.parse(res.stdout) as { pages: number; crops: number }).crops, 67);
  });
});
