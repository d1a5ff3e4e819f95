import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  bookIdOf,
  createRng,
  iou,
  parseDetectionSet,
  parseTrainCsv,
  parseUnicodeTranslation,
  type CharLabel,
} from '@kzr/core';
import sharp from 'sharp';

import {
  CHARACTER_POOL,
  coveredCharacters,
  DataArgumentError,
  DEFAULT_DETECTORS,
  generateSyntheticDataset,
  HOLDOUT_FONTS,
  simulateDetections,
  TRAIN_FONTS,
  type SyntheticDatasetOptions,
} from '../src/index.js';

async function treeDigest(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      if ((await stat(path)).isDirectory()) await walk(path);
      else
        out.set(
          relative(root, path),
          createHash('sha256')
            .update(await readFile(path))
            .digest('hex'),
        );
    }
  };
  await walk(root);
  return out;
}

const small = {
  books: 3,
  holdoutBooks: 1,
  pagesPerBook: 2,
  classes: 10,
  seed: 11,
  pageWidth: 240,
  pageHeight: 320,
  glyphSize: 20,
} satisfies Omit<SyntheticDatasetOptions, 'outDir'>;

describe('synthetic books', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kzr-synth-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('gives byte-identical trees for one seed whatever the concurrency, and a different tree for another seed', async () => {
    await generateSyntheticDataset({ ...small, outDir: join(dir, 'a'), concurrency: 1 });
    await generateSyntheticDataset({ ...small, outDir: join(dir, 'b'), concurrency: 4 });
    await generateSyntheticDataset({ ...small, seed: 12, outDir: join(dir, 'c') });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((d) => treeDigest(join(dir, d))));
    assert.equal(a!.size, 6 + 5); // 6 pages, train.csv, unicode_translation.csv, 2 detection sets, synth.json
    assert.deepEqual([...a!], [...b!]);
    assert.notDeepEqual([...a!.values()], [...c!.values()]);
  });

  it('writes a Kaggle-format dataset: page ids carry the book, labels in page bounds, classes in string order', async () => {
    const out = join(dir, 'a');
    const pages = parseTrainCsv(await readFile(join(out, 'train.csv'), 'utf8'), 'train.csv');
    const manifest = JSON.parse(await readFile(join(out, 'synth.json'), 'utf8')) as {
      books: Array<{ bookId: string; holdout: boolean; style: { family: string }; pageIds: string[] }>;
      classes: Array<{ code: string; probability: number }>;
    };
    assert.equal(pages.length, 6);
    assert.deepEqual(
      manifest.books.map((b) => b.holdout),
      [false, false, true],
    );
    for (const book of manifest.books) {
      const families = (book.holdout ? HOLDOUT_FONTS : TRAIN_FONTS).map((f) => f.family);
      assert.ok(families.includes(book.style.family), `${book.bookId}: ${book.style.family}`);
      for (const pageId of book.pageIds) assert.equal(bookIdOf(pageId), book.bookId);
    }
    // Each training book uses its own family.
    assert.equal(new Set(manifest.books.map((b) => b.style.family)).size, 3);

    const translation = parseUnicodeTranslation(await readFile(join(out, 'unicode_translation.csv'), 'utf8'));
    const codes = [...translation.keys()];
    assert.deepEqual(codes, [...codes].sort());
    assert.deepEqual(new Set(codes), new Set(manifest.classes.map((c) => c.code)));
    for (const [code, char] of translation) assert.equal(char.codePointAt(0), parseInt(code.slice(2), 16));

    let labels = 0;
    for (const page of pages) {
      const meta = await sharp(join(out, 'train_images', `${page.pageId}.jpg`)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 240, 320]);
      for (const l of page.labels) {
        assert.ok(translation.has(l.code));
        assert.ok(l.x >= 0 && l.y >= 0 && l.x + l.width <= 240 && l.y + l.height <= 320, JSON.stringify(l));
        assert.ok(l.width >= 3 && l.height >= 3 && l.width <= 2 * 20 && l.height <= 2 * 20, JSON.stringify(l));
      }
      labels += page.labels.length;
    }
    assert.ok(labels > 6 * 20, `only ${labels} characters`);
    // Zipf-like: probabilities fall with rank.
    const p = manifest.classes.map((c) => c.probability);
    assert.ok(p.every((v, i) => i === 0 || v < p[i - 1]!));
  });

  it('puts ink inside the ground-truth boxes and paper outside them', async () => {
    const out = join(dir, 'a');
    const pages = parseTrainCsv(await readFile(join(out, 'train.csv'), 'utf8'));
    const page = pages.find((pg) => pg.labels.length > 10)!;
    const { data } = await sharp(join(out, 'train_images', `${page.pageId}.jpg`))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const inside = new Uint8Array(240 * 320);
    for (const l of page.labels) {
      for (let y = l.y; y < l.y + l.height; y++) for (let x = l.x; x < l.x + l.width; x++) inside[y * 240 + x] = 1;
    }
    // The darkest 3 % of pixels (ink) lie inside the boxes; the boxes hold much darker pixels on average.
    const threshold = [...data].sort((x, y) => x - y)[Math.floor(data.length * 0.03)]!;
    let darkIn = 0;
    let darkAll = 0;
    let sumIn = 0;
    let sumOut = 0;
    let nIn = 0;
    for (let i = 0; i < inside.length; i++) {
      const dark = data[i]! <= threshold ? 1 : 0;
      darkAll += dark;
      if (inside[i]) {
        darkIn += dark;
        sumIn += data[i]!;
        nIn++;
      } else sumOut += data[i]!;
    }
    assert.ok(darkIn / darkAll > 0.97, `only ${darkIn} of ${darkAll} ink pixels inside boxes`);
    assert.ok(sumIn / nIn < sumOut / (inside.length - nIn) - 20, 'boxes are not darker than the paper');
  });

  it('writes one detection set per simulated detector covering every page', async () => {
    const out = join(dir, 'a');
    const pages = parseTrainCsv(await readFile(join(out, 'train.csv'), 'utf8'));
    for (const sim of DEFAULT_DETECTORS) {
      const set = parseDetectionSet(await readFile(join(out, 'detections', `${sim.name}.json`), 'utf8'));
      assert.equal(set.name, sim.name);
      assert.deepEqual(
        set.pages.map((p) => p.pageId),
        pages.map((p) => p.pageId),
      );
      for (const p of set.pages) assert.deepEqual([p.width, p.height], [240, 320]);
    }
  });

  it('draws a class only in fonts that really have its glyph (no fallback or blank glyphs)', async () => {
    assert.equal((await coveredCharacters('NoSuchFamily', CHARACTER_POOL)).size, 0);
    const noto = await coveredCharacters('Noto Serif CJK JP', [...CHARACTER_POOL.slice(0, 5), '\u0E01']);
    assert.deepEqual([...noto], CHARACTER_POOL.slice(0, 5)); // Thai is not in a Japanese font
    await assert.rejects(
      generateSyntheticDataset({
        ...small,
        holdoutBooks: 0,
        outDir: join(dir, 'missing-font'),
        trainFonts: [{ family: 'NoSuchFamily', weights: [400], debianPackage: 'none' }],
      }),
      (err: unknown) => DataArgumentError.is(err) && /NoSuchFamily/.test(err.message),
    );
  });

  it('rejects bad options before writing anything', async () => {
    const cases: Array<[Partial<SyntheticDatasetOptions>, RegExp]> = [
      [{ books: 0 }, /options\.books/],
      [{ holdoutBooks: 4 }, /options\.holdoutBooks/],
      [{ classes: CHARACTER_POOL.length + 1 }, /options\.classes/],
      [{ glyphSize: 200 }, /options\.glyphSize: 200 px glyphs do not fit/],
      [{ holdoutFonts: [TRAIN_FONTS[0]!] }, /also a training family/],
    ];
    for (const [patch, pattern] of cases) {
      const outDir = join(dir, 'bad');
      await assert.rejects(generateSyntheticDataset({ ...small, ...patch, outDir }), pattern);
      await assert.rejects(stat(outDir), { code: 'ENOENT' });
    }
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'keep.txt'), 'x');
    await assert.rejects(generateSyntheticDataset({ ...small, outDir: busy }), /is not empty/);
    assert.deepEqual(await readdir(busy), ['keep.txt']);
  });
});

describe('simulated detectors', () => {
  const truth: CharLabel[] = [];
  for (let i = 0; i < 4000; i++)
    truth.push({ code: 'U+3042', x: (i % 50) * 40, y: Math.floor(i / 50) * 40, width: 30, height: 32 });

  it('miss, jitter and hallucinate at about their configured rates, scoring found characters higher', () => {
    const sim = DEFAULT_DETECTORS[1]!;
    const dets = simulateDetections(truth, 2000, 3200, sim, createRng(5));
    // Match each detection to the truth box it overlaps most.
    let matched = 0;
    let tpScore = 0;
    let fpScore = 0;
    const used = new Set<number>();
    for (const d of dets) {
      const col = Math.round(d.x / 40);
      const row = Math.round(d.y / 40);
      const j = row * 50 + col;
      const t = truth[j];
      if (t && !used.has(j) && iou(t, d) > 0.6) {
        used.add(j);
        matched++;
        tpScore += d.score;
      } else fpScore += d.score;
    }
    const missRate = 1 - matched / truth.length;
    const fpRate = (dets.length - matched) / truth.length;
    assert.ok(Math.abs(missRate - sim.missRate) < 0.015, `miss rate ${missRate}`);
    assert.ok(Math.abs(fpRate - sim.falsePositiveRate) < 0.02, `false-positive rate ${fpRate}`);
    assert.ok(tpScore / matched > fpScore / (dets.length - matched) + 0.3);
    // Sorted by score, highest first.
    assert.ok(dets.every((d, i) => i === 0 || d.score <= dets[i - 1]!.score));
  });

  it('puts a few false positives on a page without characters', () => {
    let total = 0;
    for (let s = 0; s < 200; s++) total += simulateDetections([], 500, 800, DEFAULT_DETECTORS[0]!, createRng(s)).length;
    assert.ok(total > 120 && total < 280, `${total} false positives on 200 empty pages`);
  });
});
