import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ValidationError } from '@kzr/platform';

import {
  checkRelativeKey,
  checkSegment,
  cropIndexKey,
  cropShardKey,
  datasetDetectionsKey,
  datasetLabelsKey,
  datasetPageKey,
  datasetPagesPrefix,
  datasetPrefix,
  datasetUnicodeTranslationKey,
  filterFileKey,
  filterManifestKey,
  maxSegmentLength,
  modelSetFileKey,
  modelSetManifestKey,
  modelSetsPrefix,
  parseFilterManifestKey,
  parseModelSetManifestKey,
  parseRunRecordKey,
  phaseCacheKey,
  phaseManifestKey,
  preprocessedPageKey,
  resultKey,
  runOutputPrefix,
  runRecordKey,
  runStagesKey,
} from '../src/index.js';

function namesField(field: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(err.field, field);
    return true;
  };
}

describe('the segment rule', () => {
  it('accepts names of letters, digits, dot, underscore and dash up to the length limit', () => {
    for (const name of ['kuzushiji-5', '2026-11-30a', 'v1.2_rc', '100241706_00004_2', 'a'.repeat(maxSegmentLength)]) {
      assert.equal(checkSegment('version', name), name);
    }
  });

  it('rejects a parent reference, an empty name, a slash, a long name and control characters, naming the field', () => {
    const bad = [
      '../x',
      '..',
      '.',
      '',
      'a/b',
      '/a',
      'a'.repeat(maxSegmentLength + 1),
      'a\u0000b',
      'tab\there',
      'new\nline',
      '-flag',
      'a b',
      'é',
    ];
    for (const name of bad)
      assert.throws(() => checkSegment('dataset', name), namesField('dataset'), JSON.stringify(name));
    assert.throws(() => checkSegment('run', 42), namesField('run'));
  });

  it('checks every segment of a relative key', () => {
    assert.equal(checkRelativeKey('file', 'epoch-0003/weights.bin'), 'epoch-0003/weights.bin');
    for (const key of ['', 'a//b', 'a/../b', '/abs', 'trailing/']) {
      assert.throws(() => checkRelativeKey('file', key), namesField('file'), key);
    }
  });
});

describe('Store keys', () => {
  it('builds every key of the Artifacts layout', () => {
    assert.equal(datasetPrefix('d1'), 'datasets/d1/');
    assert.equal(datasetPagesPrefix('d1'), 'datasets/d1/pages/');
    assert.equal(datasetPageKey('d1', 'p_1', '.jpg'), 'datasets/d1/pages/p_1.jpg');
    assert.equal(datasetLabelsKey('d1'), 'datasets/d1/labels.csv');
    assert.equal(datasetUnicodeTranslationKey('d1'), 'datasets/d1/unicode_translation.csv');
    assert.equal(datasetDetectionsKey('d1', 'frcnn-a'), 'datasets/d1/detections/frcnn-a.json');
    assert.equal(preprocessedPageKey('d1', 'p_1'), 'preprocessed/d1/p_1.png');
    assert.equal(cropShardKey('d1', 'train', 'shard-00000.bin'), 'crops/d1/train/shard-00000.bin');
    assert.equal(cropIndexKey('d1', 'train'), 'crops/d1/train/index.json');
    assert.equal(runRecordKey('r1'), 'runs/r1/run.json');
    assert.equal(runOutputPrefix('r1', 'first-train', 'tiny'), 'runs/r1/first-train/tiny/');
    assert.equal(runOutputPrefix('r1', 'split'), 'runs/r1/split/');
    assert.equal(phaseManifestKey('r1', 'refine', 'tiny'), 'runs/r1/refine/tiny/manifest.json');
    assert.equal(phaseManifestKey('r1', 'publish'), 'runs/r1/publish/manifest.json');
    assert.equal(parseRunRecordKey('runs/r1/run.json'), 'r1');
    assert.equal(parseRunRecordKey('runs/r1/split/manifest.json'), undefined);
    assert.equal(runStagesKey('r1'), 'results/r1/stages.json');
    assert.equal(phaseCacheKey('split', 'ab12'), 'cache/split/ab12.json');
    assert.equal(resultKey('r1', 'report.html'), 'results/r1/report.html');
    assert.equal(modelSetsPrefix(), 'models/');
    assert.equal(modelSetsPrefix('set'), 'models/set/');
    assert.equal(modelSetManifestKey('set', 'v1'), 'models/set/v1/manifest.json');
    assert.equal(modelSetFileKey('set', 'v1', 'a.safetensors'), 'models/set/v1/a.safetensors');
    assert.equal(filterFileKey('f1', 'model.txt'), 'filters/f1/model.txt');
    assert.equal(filterManifestKey('f1'), 'filters/f1/features.json');
  });

  it('checks each outside name before building a key, naming it', () => {
    assert.throws(() => datasetLabelsKey('../etc'), namesField('dataset'));
    assert.throws(() => datasetPageKey('d1', 'a/b', '.jpg'), namesField('page'));
    assert.throws(() => datasetPageKey('d1', 'p', 'jpg'), namesField('ext'));
    assert.throws(() => preprocessedPageKey('d1', ''), namesField('page'));
    assert.throws(() => runRecordKey('r\u0007'), namesField('run'));
    assert.throws(() => runOutputPrefix('r1', 'first-train', '..'), namesField('model'));
    assert.throws(() => phaseManifestKey('r1', 'a/b'), namesField('phase'));
    assert.throws(() => modelSetManifestKey('set', 'x'.repeat(101)), namesField('version'));
    assert.throws(() => modelSetManifestKey('a/b', 'v1'), namesField('modelSet'));
    assert.throws(() => modelSetFileKey('set', 'v1', '../other/manifest.json'), namesField('file'));
    assert.throws(() => filterManifestKey('../models'), namesField('version'));
    assert.throws(() => cropIndexKey('d1', 'train/x'), namesField('split'));
  });

  it('reads the set and version back from a manifest key, and nothing from other keys', () => {
    assert.deepEqual(parseModelSetManifestKey(modelSetManifestKey('set', 'v1')), { modelSet: 'set', version: 'v1' });
    assert.equal(parseModelSetManifestKey('models/set/v1/a.safetensors'), undefined);
    assert.equal(parseModelSetManifestKey('models/set/v1/x/manifest.json'), undefined);
    assert.equal(parseFilterManifestKey(filterManifestKey('f1')), 'f1');
    assert.equal(parseFilterManifestKey(filterFileKey('f1', 'model.txt')), undefined);
  });
});
