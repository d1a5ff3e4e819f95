/**
 * The run presets of `configs/runs/` (issue 16): each parses with pipeline's `parseRunSpec`, its
 * model configurations (paths relative to the preset) resolve and pass ml's `parseModelConfig`,
 * and each preset keeps the promises its README makes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';

import { parseModelConfig } from '@kzr/ml';
import { buildPhaseGraph, parseRunSpec, resolveModelConfigs, type RunSpec } from '@kzr/pipeline';

const runs = join(import.meta.dirname, '..', 'configs', 'runs');

/** A preset, parsed, its configurations inlined from the files it names. */
function preset(name: string): RunSpec {
  const file = join(runs, `${name}.json`);
  const spec = parseRunSpec(readFileSync(file, 'utf8'));
  return resolveModelConfigs(spec, (path) => JSON.parse(readFileSync(join(dirname(file), path), 'utf8')));
}

describe('run presets', () => {
  for (const name of ['smoke', 'default', 'upstream']) {
    it(`${name} parses, names itself, and every model configuration it names is valid`, () => {
      const spec = preset(name);
      assert.equal(spec.preset, name);
      for (const model of spec.models) {
        const config = parseModelConfig(model.config, model.name);
        assert.equal(config.name, model.name, `${model.name} names its configuration`);
      }
      // The graph builds: three phases per model and seven others.
      assert.equal(buildPhaseGraph(spec).phases.length, 7 + 3 * spec.models.length);
    });
  }

  it('smoke: 2 tiny configurations, 1 epoch per training phase, <= 10 classes, 3 books x 2 pages plus a held-out book, 2 search trials, wasm, fixed workers', () => {
    const spec = preset('smoke');
    assert.equal(spec.models.length, 2);
    for (const model of spec.models) {
      assert.match(model.name, /^tiny-/);
      assert.deepEqual(model.epochs, { firstTrain: 1, secondTrain: 1 });
    }
    assert.equal(spec.refine.epochs, 1);
    assert.deepEqual(spec.dataset.synthetic, { books: 4, holdoutBooks: 1, pagesPerBook: 2, classes: 10, seed: 16 });
    // Synthetic book ids are 9 and 8 digits, book i (0-based) = 900000001 + i; the held-out book is the last.
    assert.deepEqual(spec.split.testBooks, ['900000004']);
    assert.equal(spec.filter.searchTrials, 2);
    assert.equal(spec.execution.backend, 'wasm');
    assert.equal(typeof spec.execution.workers, 'number');
  });

  it('default: tiny variants of the five upstream configurations, on a synthetic dataset of at least 6 books and a held-out book, for 2 cores', () => {
    const spec = preset('default');
    assert.deepEqual(
      spec.models.map((m) => m.name),
      [
        'tiny-efficientnet-gray32',
        'tiny-resnet-gray32-mixup',
        'tiny-se-resnext-rgb32-mixup',
        'tiny-se-resnext-rgb32',
        'tiny-resnet-rgb32',
      ],
    );
    // Each tiny variant keeps its upstream model's family, channels, split and batch mix.
    const upstream = preset('upstream');
    spec.models.forEach((model, i) => {
      const tiny = parseModelConfig(model.config, model.name);
      const full = parseModelConfig(upstream.models[i]!.config, upstream.models[i]!.name);
      assert.equal(tiny.model.inputChannels, full.model.inputChannels, model.name);
      assert.equal(tiny.model.arch.replace(/\d.*$/, ''), full.model.arch.replace(/\d.*$/, ''), model.name);
      assert.equal(tiny.augment.batchMix, full.augment.batchMix, model.name);
      assert.equal(model.split, upstream.models[i]!.split, model.name);
    });
    const synthetic = spec.dataset.synthetic!;
    assert.ok(synthetic.books - synthetic.holdoutBooks >= 6 && synthetic.holdoutBooks === 1);
    assert.deepEqual(spec.split.testBooks, [`9${String(synthetic.books).padStart(8, '0')}`]);
    assert.equal(spec.execution.gpu, false);
    assert.equal(spec.execution.parallelism, 2);
  });

  it('upstream: the five full configurations and schedules of spec §4.1 on the two upstream splits, for GPUs', () => {
    const spec = preset('upstream');
    assert.deepEqual(
      spec.models.map((m) => [m.name, m.split, parseModelConfig(m.config, m.name).train.epochs]),
      [
        ['01-efficientnet-b4-gray190', 'a', 80],
        ['02-resnet152-gray112', 'a', 80],
        ['03-se-resnext101-rgb112', 'a', 80],
        ['04-se-resnext101-rgb112', 'b', 90],
        ['05-resnet152-rgb112', 'b', 90],
      ],
    );
    assert.deepEqual(
      spec.split.splits.map((s) => s.valBook),
      ['200015779', '200003076'],
    );
    assert.deepEqual(spec.pseudoLabel, { minFilterProbability: 0.5, minVoteProbability: 1 });
    assert.deepEqual(spec.refine, { epochs: 3, lr: 1e-5, pseudoTargetWeight: 0.9 });
    assert.deepEqual(spec.filter, { searchTrials: 200, folds: 5, seed: 7 });
    assert.equal(spec.execution.gpu, true);
    assert.equal(spec.execution.backend, 'gpu');
  });
});
