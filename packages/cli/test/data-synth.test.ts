import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { bookIdOf, parseTrainCsv } from '@kzr/core';

import { repoRoot, runKzr, tempDir } from './kzr-cli.js';

describe('kzr data synth', () => {
  it('writes a dataset with held-out books and prints its summary', async (t) => {
    const dir = await tempDir(t, 'kzr-cli-synth-');
    const out = join(dir, 'books');
    const flags = ['--books', '3', '--holdout-books', '1', '--pages-per-book', '2', '--classes', '6', '--seed', '5'];
    const size = ['--page-width', '200', '--page-height', '280', '--glyph-size', '18'];
    const { code, stdout, stderr } = await runKzr(['data', 'synth', ...flags, '--out', out, ...size]);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as {
      pages: number;
      classes: number;
      books: Array<{ bookId: string; holdout: boolean; pages: number }>;
    };
    assert.equal(summary.pages, 6);
    assert.equal(summary.classes, 6);
    assert.deepEqual(
      summary.books.map((b) => [b.holdout, b.pages]),
      [
        [false, 2],
        [false, 2],
        [true, 2],
      ],
    );
    const pages = parseTrainCsv(await readFile(join(out, 'train.csv'), 'utf8'));
    assert.deepEqual(
      [...new Set(pages.map((p) => bookIdOf(p.pageId)))],
      summary.books.map((b) => b.bookId),
    );
    assert.equal((await readdir(join(out, 'train_images'))).length, 6);
  });

  it('exits 2 naming the flag for a missing seed, too many classes or an --out folder that holds files', async (t) => {
    const dir = await tempDir(t, 'kzr-cli-synth-');
    const base = ['data', 'synth', '--books', '1', '--pages-per-book', '1'];
    const noSeed = await runKzr([...base, '--classes', '3', '--out', join(dir, 'x')]);
    assert.equal(noSeed.code, 2);
    assert.match(noSeed.stderr, /--seed: is required/);
    const tooMany = await runKzr([...base, '--classes', '100000', '--seed', '1', '--out', join(dir, 'x')]);
    assert.equal(tooMany.code, 2);
    assert.match(tooMany.stderr, /--classes/);
    const busy = await runKzr([...base, '--classes', '3', '--seed', '1', '--out', repoRoot]);
    assert.equal(busy.code, 2);
    // The option's problem under the flag's name: no `options.outDir` left in the line.
    assert.match(busy.stderr, /^kzr: --out: \S+ is not empty; choose a new folder\n$/);
    assert.deepEqual(await readdir(dir), []);
  });
});
