import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createRng, formatSubmissionCsv, formatTrainCsv, parseTrainCsv, type PageLabels } from '@kzr/core';

import { runKzr, tempDir } from './kzr-cli.js';

const sharedData = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));

/** Labelled pages of two books: classes on both sides, train-only (rare and common) and val-only. */
function twoBookLabels(): PageLabels[] {
  const rng = createRng(8);
  const pages: PageLabels[] = [];
  const add = (book: string, count: number, code: string): void => {
    for (let i = 0; i < count; i++) {
      const pageId = `${book}_${String(Math.floor(i / 20)).padStart(5, '0')}_1`;
      let page = pages.find((p) => p.pageId === pageId);
      if (page === undefined) pages.push((page = { pageId, labels: [] }));
      page.labels.push({ code, x: rng.int(900), y: rng.int(900), width: 20 + rng.int(40), height: 20 + rng.int(40) });
    }
  };
  add('100241706', 150, 'U+3042');
  add('200015779', 30, 'U+3042');
  add('100241706', 240, 'U+3044');
  add('100241706', 7, 'U+3046');
  add('200015779', 4, 'U+3048');
  return pages;
}

describe('kzr data books', () => {
  it('gives the 28 train books of spec §1.2, largest first', async () => {
    const { code, stdout } = await runKzr(['data', 'books', '../shared/data/kaggle/lists/train_images.list']);
    assert.equal(code, 0);
    const books = Object.entries(JSON.parse(stdout) as Record<string, number>);
    // JSON.parse reorders numeric keys; the printed order is checked on the text itself.
    assert.equal(books.length, 28);
    assert.equal(
      books.reduce((s, [, n]) => s + n, 0),
      3881,
    );
    assert.ok(stdout.startsWith('{"hnsd":515,"umgy":496,"200003076":346,"200015779":279,"brsk":228,"200014740":180,'));
    assert.ok(stdout.trimEnd().endsWith('"200006663":12}'));
  });

  it('exits 2 naming the line of an id without a book, and a missing file', async () => {
    const [test, missing, none] = await Promise.all([
      runKzr(['data', 'books', '../shared/data/kaggle/lists/test_images.list']),
      runKzr(['data', 'books', 'no/such.list']),
      runKzr(['data', 'books']),
    ]);
    assert.equal(test.code, 2);
    assert.match(test.stderr, /test_images\.list:1: pageId: "test_3a49bd0a" carries no book id/);
    assert.equal(test.stdout, '');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read no\/such\.list: ENOENT/);
    assert.equal(none.code, 2);
  });
});

describe('kzr data split', () => {
  it('writes the same lists for the same seed, with held-out crops never in train', async (t) => {
    const dir = await tempDir(t, 'kzr-data-');
    const labels = join(dir, 'train.csv');
    await writeFile(labels, formatTrainCsv(twoBookLabels()));
    const [a, b] = await Promise.all([
      runKzr(['data', 'split', '--labels', labels, '--val-book', '200015779', '--seed', '5', '--out', join(dir, 'a')]),
      runKzr(['data', 'split', '--labels', labels, '--val-book', '200015779', '--seed', '5', '--out', join(dir, 'b')]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const summary = JSON.parse(a.stdout) as {
      classes: number;
      rows: Record<string, number>;
      rules: Record<string, number>;
    };
    assert.equal(summary.classes, 4);
    assert.deepEqual(summary.rules, {
      kept: 1,
      'moved-to-val': 1,
      'copied-to-val': 1,
      'moved-to-train': 0,
      'copied-to-train': 1,
    });
    // Held out: the 30 crops of the val book's U+3042 plus the 20 moved U+3044 crops.
    assert.equal(summary.rows['heldOut'], 50);
    const names = (await readdir(join(dir, 'a'))).sort();
    assert.deepEqual(names, ['classes.json', 'heldout_200015779.csv', 'train_200015779.csv', 'val_200015779.csv']);
    for (const name of names) {
      assert.equal(await readFile(join(dir, 'a', name), 'utf8'), await readFile(join(dir, 'b', name), 'utf8'), name);
    }
    const train = new Set((await readFile(join(dir, 'a', 'train_200015779.csv'), 'utf8')).split('\n'));
    const heldOut = (await readFile(join(dir, 'a', 'heldout_200015779.csv'), 'utf8')).trimEnd().split('\n');
    assert.equal(heldOut.length, 50);
    assert.ok(heldOut.every((row) => !train.has(row)));
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'a', 'classes.json'), 'utf8')), {
      codes: ['U+3042', 'U+3044', 'U+3046', 'U+3048'],
    });
  });

  it('exits 2 and writes nothing for a book without crops, a missing seed or bad labels', async (t) => {
    const dir = await tempDir(t, 'kzr-data-');
    const labels = join(dir, 'train.csv');
    await writeFile(labels, formatTrainCsv(twoBookLabels()));
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'image_id,labels\n100241706_00001_1,U+3042 1 2 3\n');
    const out = join(dir, 'out');
    const [noBook, noSeed, badLabels] = await Promise.all([
      runKzr(['data', 'split', '--labels', labels, '--val-book', '999', '--seed', '1', '--out', out]),
      runKzr(['data', 'split', '--labels', labels, '--val-book', '200015779', '--out', out]),
      runKzr(['data', 'split', '--labels', bad, '--val-book', '200015779', '--seed', '1', '--out', out]),
    ]);
    assert.equal(noBook.code, 2);
    assert.match(noBook.stderr, /^kzr: --val-book: no crop belongs to book "999"\n$/);
    assert.equal(noSeed.code, 2);
    assert.match(noSeed.stderr, /--seed: is required/);
    assert.equal(badLabels.code, 2);
    assert.match(badLabels.stderr, /bad\.csv:2: labels: expected groups of 5 tokens/);
    await assert.rejects(readdir(out), { code: 'ENOENT' });
  });
});

describe('kzr score', () => {
  it('scores a submission against the real CODH page', async (t) => {
    const dir = await tempDir(t, 'kzr-data-');
    const truthFile = join(sharedData, 'codh/100241706_00004_2.train-row.csv');
    const [page] = parseTrainCsv(await readFile(truthFile, 'utf8'));
    // Centres of all but the last 7 characters, plus 3 with a wrong code.
    const points = page!.labels
      .slice(0, 60)
      .map((c) => ({ code: c.code, x: c.x + Math.round(c.width / 2), y: c.y + Math.round(c.height / 2) }));
    points.push(...points.slice(0, 3).map((p) => ({ ...p, code: 'U+0031' })));
    const pred = join(dir, 'sub.csv');
    await writeFile(
      pred,
      formatSubmissionCsv([
        { pageId: page!.pageId, points },
        { pageId: 'test_00000000', points },
      ]),
    );
    const { code, stdout, stderr } = await runKzr(['score', '--truth', truthFile, '--pred', pred]);
    assert.equal(code, 0, stderr);
    const score = JSON.parse(stdout) as Record<string, number>;
    assert.deepEqual([score['tp'], score['fp'], score['fn']], [60, 3, 7]);
    const p = 60 / 63;
    const r = 60 / 67;
    assert.ok(Math.abs(score['f1']! - (2 * p * r) / (p + r)) < 1e-12);
    assert.deepEqual(Object.keys(score), ['f1', 'precision', 'recall', 'tp', 'fp', 'fn', 'pages']);
    assert.equal(stderr, '');
  });

  it('warns about truth pages the submission lacks, and --submitted-only scores only the submitted ones', async (t) => {
    const dir = await tempDir(t, 'kzr-data-');
    const row = await readFile(join(sharedData, 'codh/100241706_00004_2.train-row.csv'), 'utf8');
    const truth = join(dir, 'train.csv');
    // The CODH page, and a second page whose one character the submission never mentions.
    await writeFile(truth, `${row}other_00001,U+3042 10 10 20 20\n`);
    const all = await runKzr([
      'score',
      '--truth',
      truth,
      '--pred',
      join(sharedData, 'codh/100241706_00004_2.train-row.csv'),
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stderr, /^kzr: warning: 1 of 2 truth pages have no row in .*count as misses \(--submitted-only/);
    const counted = JSON.parse(all.stdout) as Record<string, number>;
    // Labelled rows as predictions are scored by their box centres: the CODH page is all hits.
    assert.deepEqual([counted['tp'], counted['fp'], counted['fn'], counted['pages']], [67, 0, 1, 2]);
    const only = await runKzr([
      'score',
      '--truth',
      truth,
      '--pred',
      join(sharedData, 'codh/100241706_00004_2.train-row.csv'),
      '--submitted-only',
    ]);
    assert.equal(only.stderr, '');
    const scored = JSON.parse(only.stdout) as Record<string, number>;
    assert.deepEqual([scored['f1'], scored['fn'], scored['pages']], [1, 0, 1]);
  });

  it('exits 2 naming file, line and field of a malformed submission', async (t) => {
    const dir = await tempDir(t, 'kzr-data-');
    const pred = join(dir, 'sub.csv');
    await writeFile(pred, 'image_id,labels\na_1,U+3042 1 2\nb_1,U+3042 1 x\n');
    const truthFile = join(sharedData, 'codh/100241706_00004_2.train-row.csv');
    const [bad, missing] = await Promise.all([
      runKzr(['score', '--truth', truthFile, '--pred', pred]),
      runKzr(['score', '--truth', truthFile]),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /sub\.csv:3: labels\[0\]\.y: expected a number, got "x"/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--pred: is required/);
  });
});

describe('kzr order', () => {
  it('restores the CODH reading order of the real page from shuffled labels', async (t) => {
    const dir = await tempDir(t, 'kzr-data-');
    const [page] = parseTrainCsv(await readFile(join(sharedData, 'codh/100241706_00004_2.train-row.csv'), 'utf8'));
    const shuffled = createRng(3).shuffle([...page!.labels]);
    const labels = join(dir, 'train.csv');
    await writeFile(
      labels,
      formatTrainCsv([
        { pageId: 'brsk001-002', labels: [] },
        { pageId: page!.pageId, labels: shuffled },
      ]),
    );
    const [ordered, unknown] = await Promise.all([
      runKzr(['order', '--labels', labels, '--page', page!.pageId]),
      runKzr(['order', '--labels', labels, '--page', 'nope_1']),
    ]);
    assert.equal(ordered.code, 0, ordered.stderr);
    const out = JSON.parse(ordered.stdout) as {
      pageId: string;
      columns: number;
      characters: Array<{ code: string; x: number; y: number; column: number; order: number }>;
    };
    assert.equal(out.columns, 6);
    assert.deepEqual(
      out.characters.map((c) => [c.code, c.x, c.y]),
      page!.labels.map((c) => [c.code, c.x, c.y]),
    );
    assert.deepEqual(
      out.characters.map((c) => c.order),
      page!.labels.map((_, i) => i),
    );
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--page: page "nope_1" is not in/);
  });
});
