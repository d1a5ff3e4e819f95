import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parseSubmissionCsv } from '@kzr/core';
import { FP_FEATURE_NAMES } from '@kzr/core/postprocess';

import { pages, predictionsJson, truthCsv } from './fp-pages.js';
import { runKzr, tempDir } from './kzr-cli.js';

/** F1 of a page set where every U+3042 box is a true character and every U+3044 box a false positive. */
function f1(codes: readonly string[], trueCharacters: number): number {
  const tp = codes.filter((c) => c === 'U+3042').length;
  const fp = codes.length - tp;
  return (2 * tp) / (2 * tp + fp + (trueCharacters - tp));
}

describe('kzr postprocess features and fit', () => {
  it('turn recognition output and truth into a feature table and a filter that halves the false positives', async (t) => {
    const dir = await tempDir(t, 'kzr-pp-fit-');
    const fit = pages(8, 1);
    await writeFile(join(dir, 'fit.json'), predictionsJson(fit.pages));
    await writeFile(join(dir, 'fit.csv'), truthCsv(fit.pages, fit.truth));

    const features = await runKzr([
      ...['postprocess', 'features', '--pred', join(dir, 'fit.json'), '--truth', join(dir, 'fit.csv')],
      ...['--out', join(dir, 'features.csv')],
    ]);
    assert.equal(features.code, 0, features.stderr);
    assert.deepEqual(JSON.parse(features.stdout), {
      out: join(dir, 'features.csv'),
      pages: 8,
      rows: 320,
      correct: 240,
      falsePositives: 80,
    });
    const table = (await readFile(join(dir, 'features.csv'), 'utf8')).trim().split('\n');
    assert.equal(table[0], [...FP_FEATURE_NAMES, 'label'].join(','));
    assert.equal(table.length, 321);
    assert.ok(table.slice(1).every((row) => row.split(',').length === 118));

    const fitted = await runKzr([
      ...['postprocess', 'fit', '--pred', join(dir, 'fit.json'), '--truth', join(dir, 'fit.csv')],
      ...['--out', join(dir, 'filter'), '--folds', '3'],
    ]);
    assert.equal(fitted.code, 0, fitted.stderr);
    const filter = JSON.parse(fitted.stdout) as { threshold: number; filters: string[] };
    assert.equal(filter.filters.length, 3);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'filter', 'filter.json'), 'utf8')), filter);

    // Held-out pages: the fitted filter and threshold drop at least half the false positives, F1 does not drop.
    const test = pages(3, 2);
    await writeFile(join(dir, 'test.json'), predictionsJson(test.pages));
    const out = join(dir, 'submission.csv');
    const filtered = await runKzr([
      ...['postprocess', 'filter', '--pred', join(dir, 'test.json'), '--out', out],
      ...filter.filters.flatMap((f) => ['--filter', f]),
      ...['--threshold', String(filter.threshold)],
    ]);
    assert.equal(filtered.code, 0, filtered.stderr);
    const kept = parseSubmissionCsv(await readFile(out, 'utf8')).flatMap((p) => p.points.map((pt) => pt.code));
    const before = test.pages.flatMap((p) => p.boxes.map((b) => b.code));
    const fpBefore = before.filter((c) => c === 'U+3044').length;
    const fpAfter = kept.filter((c) => c === 'U+3044').length;
    const trueCharacters = test.truth.flat().length;
    t.diagnostic(
      `threshold ${filter.threshold}; false positives ${fpBefore} -> ${fpAfter}; F1 ${f1(before, trueCharacters).toFixed(3)} -> ${f1(kept, trueCharacters).toFixed(3)}`,
    );
    assert.ok(fpAfter <= fpBefore / 2, `${fpAfter} of ${fpBefore} false positives kept`);
    assert.ok(f1(kept, trueCharacters) >= f1(before, trueCharacters));
  });

  it('exits 2 naming the flag for a truth file without the pages', async (t) => {
    const dir = await tempDir(t, 'kzr-pp-fit-');
    const fit = pages(2, 1);
    await writeFile(join(dir, 'fit.json'), predictionsJson(fit.pages));
    await writeFile(join(dir, 'other.csv'), 'image_id,labels\nelsewhere_1,U+3042 1 1 5 5\n');
    const res = await runKzr([
      ...['postprocess', 'fit', '--pred', join(dir, 'fit.json'), '--truth', join(dir, 'other.csv')],
      ...['--out', join(dir, 'filter')],
    ]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /has no ground truth/);
  });
});
