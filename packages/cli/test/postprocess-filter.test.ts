import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parseSubmissionCsv } from '@kzr/core';
import {
  falsePositiveFeatures,
  falsePositiveLabels,
  FP_FEATURE_COUNT,
  FP_FEATURE_NAMES,
  type ClassifiedPage,
} from '@kzr/core/postprocess';
import { formatModel, resolveParams, train } from '@kzr/gbdt';

import { runKzr, tempDir } from './kzr-cli.js';

/** Pages with a grid of true characters (big, probable) and stray false positives (small, less probable). */
function pages(
  count: number,
  seed: number,
): {
  pages: ClassifiedPage[];
  truth: Array<Array<{ code: string; x: number; y: number; width: number; height: number }>>;
} {
  let x = seed;
  const rand = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 4294967296;
  };
  const out: ClassifiedPage[] = [];
  const truth: Array<Array<{ code: string; x: number; y: number; width: number; height: number }>> = [];
  for (let p = 0; p < count; p++) {
    const boxes: ClassifiedPage['boxes'] = [];
    const labels: Array<{ code: string; x: number; y: number; width: number; height: number }> = [];
    for (let i = 0; i < 30; i++) {
      const bx = 20 + (i % 5) * 50;
      const by = 20 + Math.floor(i / 5) * 50;
      labels.push({ code: 'U+3042', x: bx, y: by, width: 40, height: 40 });
      boxes.push({
        code: 'U+3042',
        probability: 0.6 + 0.4 * rand(),
        score: 0.9,
        x: bx + 1,
        y: by + 1,
        width: 38,
        height: 38,
      });
    }
    for (let i = 0; i < 10; i++) {
      boxes.push({
        code: 'U+3044',
        probability: 0.1 + 0.5 * rand(),
        score: 0.4,
        x: rand() * 250,
        y: rand() * 300,
        width: 10,
        height: 10,
      });
    }
    out.push({ pageId: `book_${seed}_${p}`, width: 300, height: 360, boxes });
    truth.push(labels);
  }
  return { pages: out, truth };
}

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
    await writeFile(
      pred,
      JSON.stringify({
        pages: test.pages.map((page) => ({
          pageId: page.pageId,
          pageWidth: page.width,
          pageHeight: page.height,
          characters: page.boxes.map((b) => ({
            code: b.code,
            probability: b.probability,
            detectorScore: b.score,
            box: { x: b.x, y: b.y, width: b.width, height: b.height },
          })),
        })),
      }),
    );
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
