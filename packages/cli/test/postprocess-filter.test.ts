import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parseSubmissionCsv } from '@kzr/core';
import { falsePositiveFeatures, falsePositiveLabels, FP_FEATURE_COUNT, FP_FEATURE_NAMES } from '@kzr/core/postprocess';
import { formatModel, resolveParams, train } from '@kzr/gbdt';

import { pages, predictionsJson } from './fp-pages.js';
import { runKzr, tempDir } from './kzr-cli.js';

describe('kzr postprocess filter', () => {
  it('keeps the characters a filter scores >= the threshold and writes the submission CSV', async (t) => {
    const dir = await tempDir(t, 'kzr-pp-filter-');
    // A filter trained on one set of pages ...
    const fit = pages(4, 1);
    const rows = fit.pages.map((page) => falsePositiveFeatures(page));
    const values = new Float64Array(rows.reduce((s, r) => s + r.length, 0));
    let offset = 0;
    for (const r of rows) {
      values.set(r, offset);
      offset += r.length;
    }
    const labels = Float64Array.from(fit.pages.flatMap((page, i) => [...falsePositiveLabels(page, fit.truth[i]!)]));
    const { booster } = train(
      { features: { numRows: labels.length, numFeatures: FP_FEATURE_COUNT, values }, labels },
      resolveParams({ num_iterations: 20, min_data_in_leaf: 5 }),
      { featureNames: FP_FEATURE_NAMES },
    );
    const model = join(dir, 'model.txt');
    await writeFile(model, formatModel(booster));
    // ... applied to others, given as proto3 JSON.
    const test = pages(2, 2);
    const pred = join(dir, 'results.json');
    await writeFile(pred, predictionsJson(test.pages));
    const out = join(dir, 'submission.csv');
    const res = await runKzr(['postprocess', 'filter', '--pred', pred, '--filter', model, '--out', out]);
    assert.equal(res.code, 0, res.stderr);
    const summary = JSON.parse(res.stdout) as { characters: number; kept: number };
    assert.equal(summary.characters, 80);
    const submission = parseSubmissionCsv(await readFile(out, 'utf8'));
    assert.deepEqual(
      submission.map((p) => p.pageId),
      test.pages.map((p) => p.pageId),
    );
    const codes = submission.flatMap((p) => p.points.map((pt) => pt.code));
    assert.equal(codes.length, summary.kept);
    assert.ok(codes.filter((c) => c === 'U+3042').length >= 55, 'true characters stay');
    assert.ok(codes.filter((c) => c === 'U+3044').length <= 4, 'stray false positives go');

    const all = await runKzr([
      'postprocess',
      'filter',
      '--pred',
      pred,
      '--filter',
      model,
      '--threshold',
      '0',
      '--out',
      out,
    ]);
    assert.equal(JSON.parse(all.stdout).kept, 80);

    const wrong = join(dir, 'wrong.txt');
    await writeFile(
      wrong,
      await readFile(new URL('../../../../shared/data/lightgbm/model.txt', import.meta.url), 'utf8'),
    );
    const bad = await runKzr(['postprocess', 'filter', '--pred', pred, '--filter', wrong, '--out', join(dir, 'x.csv')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--filter: .* reads 14 features, the filter needs 117/);
  });
});
