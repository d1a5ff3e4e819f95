import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readShared } from './fixtures.js';
import { featuresForModel, formatModel, parseCsvTable, parseModel, predict } from '../src/index.js';

describe('LightGBM model.txt reader and predictor', () => {
  it('reproduces LightGBM 4.7 predictions of the fixture model within 1e-12', async () => {
    const booster = parseModel(await readShared('lightgbm/model.txt'));
    const table = parseCsvTable(await readShared('lightgbm/features.csv'));
    const expected = (await readShared('lightgbm/expected.csv')).trim().split('\n').slice(1).map(Number);
    assert.equal(booster.trees.length, 60);
    const got = predict(booster, featuresForModel(table, booster));
    assert.equal(got.length, expected.length);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((got[i] as number) - (expected[i] as number)));
    assert.ok(maxDiff <= 1e-12, `max |diff| = ${maxDiff}`);
  });

  it('reads literal inf thresholds as infinities, not NaN', async () => {
    const booster = parseModel(await readShared('lightgbm/model.txt'));
    const thresholds = booster.trees.flatMap((tree) => Array.from(tree.threshold));
    assert.ok(thresholds.some((t) => t === Infinity || t === -Infinity));
    assert.ok(thresholds.every((t) => !Number.isNaN(t)));
  });

  it('writes the fixture back with the same tree blocks, sizes and predictions', async () => {
    const text = await readShared('lightgbm/model.txt');
    const booster = parseModel(text);
    const written = formatModel(booster);
    const header = (s: string): string[] =>
      s
        .split('\n\n')[0]!
        .split('\n')
        .map((line) => line.split('=')[0]!);
    assert.deepEqual(header(written), header(text));
    const sizes = /tree_sizes=(.*)/.exec(written)![1]!.split(' ').map(Number);
    const start = written.indexOf('Tree=0');
    let offset = start;
    for (const size of sizes) {
      assert.match(written.slice(offset, offset + 5), /^Tree=/);
      offset += size;
    }
    assert.equal(written.slice(offset, offset + 12), 'end of trees');
    const reread = parseModel(written);
    const table = parseCsvTable(await readShared('lightgbm/features.csv'));
    assert.deepEqual(
      predict(reread, featuresForModel(table, reread)),
      predict(booster, featuresForModel(table, booster)),
    );
  });

  it('rejects a malformed model naming the field', () => {
    assert.throws(() => parseModel('tree\nmax_feature_idx=1\nobjective=regression\n'), /objective/);
    const bad =
      'tree\nmax_feature_idx=0\nobjective=binary sigmoid:1\nfeature_names=a\n\nTree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\nthreshold=abc\ndecision_type=0\nleft_child=-1\nright_child=-2\nleaf_value=1 2\nshrinkage=1\n\n\nend of trees\n';
    assert.throws(() => parseModel(bad), /Tree=0\.threshold\[0\]: not a number/);
  });
});
