import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { runKzr, tempDir } from './kzr-cli.js';

describe('kzr gbdt predict', () => {
  it('reproduces expected.csv of the LightGBM fixture within 1e-12, one probability per line', async () => {
    const { code, stdout } = await runKzr([
      'gbdt',
      'predict',
      '--model',
      '../shared/data/lightgbm/model.txt',
      '--csv',
      '../shared/data/lightgbm/features.csv',
    ]);
    assert.equal(code, 0);
    const expectedText = await readFile(
      new URL('../../../../shared/data/lightgbm/expected.csv', import.meta.url),
      'utf8',
    );
    const expected = expectedText.trim().split('\n').slice(1).map(Number);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected.length);
    for (let i = 0; i < lines.length; i++) {
      const value = Number(lines[i]);
      assert.equal(String(value), lines[i], 'shortest round-trip form');
      assert.ok(Math.abs(value - expected[i]!) <= 1e-12, `row ${i}: ${value} vs ${expected[i]}`);
    }
  });

  it('says why training stopped early on --valid and reports the validation loss of the kept trees', async (t) => {
    const dir = await tempDir(t, 'kzr-gbdt-cli-');
    const all = (
      await readFile(new URL('../../../../shared/data/lightgbm/features.csv', import.meta.url), 'utf8')
    ).split('\n');
    const csv = join(dir, 'train.csv');
    const valid = join(dir, 'valid.csv');
    await writeFile(csv, all.slice(0, 401).join('\n') + '\n');
    await writeFile(valid, [all[0], ...all.slice(401, 601)].join('\n') + '\n');
    // A high learning rate overfits within a few rounds, so the validation loss turns up early.
    const params = ['learning_rate=0.9', 'num_boost_round=300', 'early_stopping_round=3', 'min_child_samples=5'];
    const res = await runKzr([
      'gbdt',
      'train',
      '--csv',
      csv,
      '--valid',
      valid,
      ...params.flatMap((p) => ['--param', p]),
      '--out',
      join(dir, 'model.txt'),
    ]);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.match(
      String(out['stopped']),
      /^early stopping: the --valid loss did not improve for early_stopping_round rounds/,
    );
    assert.equal(out['iterations'], (out['bestIteration'] as number) + 3);
    assert.equal(out['trees'], out['bestIteration']);
    assert.ok((out['validLoss'] as number) > 0);
  });

  it('exits 2 naming the flag when the model file is missing', async () => {
    const { code, stderr } = await runKzr(['gbdt', 'predict', '--model', 'no-such-model.txt', '--csv', 'x.csv']);
    assert.equal(code, 2);
    assert.match(stderr, /--model/);
  });
});

describe('kzr gbdt train, cv and search', () => {
  it('trains with LightGBM aliases, writes a model that predict reads back, and runs cv and search with a seed', async (t) => {
    const dir = await tempDir(t, 'kzr-gbdt-cli-');
    const all = (
      await readFile(new URL('../../../../shared/data/lightgbm/features.csv', import.meta.url), 'utf8')
    ).split('\n');
    const csv = join(dir, 'train.csv');
    await writeFile(csv, all.slice(0, 601).join('\n') + '\n');
    const model = join(dir, 'model.txt');
    const trained = await runKzr([
      'gbdt',
      'train',
      '--csv',
      csv,
      '--param',
      'num_boost_round=12',
      '--param',
      'min_child_samples=10',
      '--out',
      model,
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    assert.equal(JSON.parse(trained.stdout).trees, 12);
    assert.equal(JSON.parse(trained.stdout).stopped, 'num_iterations trees built');
    const text = await readFile(model, 'utf8');
    assert.match(text, /^tree\nversion=v4\n/);
    assert.match(text, /feature_names=f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 f13\n/);
    const predicted = await runKzr(['gbdt', 'predict', '--model', model, '--csv', csv]);
    assert.equal(predicted.code, 0);
    const p = predicted.stdout.trim().split('\n').map(Number);
    assert.equal(p.length, 600);
    assert.ok(p.every((v) => v > 0 && v < 1));

    const cv = await runKzr([
      'gbdt',
      'cv',
      '--csv',
      csv,
      '--param',
      'num_iterations=8',
      '--folds',
      '3',
      '--seed',
      '1',
      '--out',
      join(dir, 'cv'),
    ]);
    assert.equal(cv.code, 0, cv.stderr);
    assert.deepEqual((await readdir(join(dir, 'cv'))).sort(), [
      'fold-0.model.txt',
      'fold-1.model.txt',
      'fold-2.model.txt',
    ]);

    const searchArgs = [
      'gbdt',
      'search',
      '--csv',
      csv,
      '--trials',
      '3',
      '--rounds',
      '6',
      '--folds',
      '2',
      '--seed',
      '9',
    ];
    const [s1, s2] = await Promise.all([runKzr(searchArgs), runKzr(searchArgs)]);
    assert.equal(s1.code, 0, s1.stderr);
    assert.deepEqual(JSON.parse(s1.stdout).bestParams, JSON.parse(s2.stdout).bestParams);

    const bad = await runKzr(['gbdt', 'train', '--csv', csv, '--param', 'num_leafs=4', '--out', join(dir, 'bad.txt')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /num_leafs: unknown parameter/);
    await assert.rejects(readFile(join(dir, 'bad.txt')), 'nothing written on bad input');
  });
});
