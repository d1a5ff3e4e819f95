import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseRunSpec, resolveModelConfigs, RunSpecDefaults, RunSpecError, runSpecToJson } from '../src/index.js';
import { modelConfig, specJson, type SpecJson } from './fixtures.js';

/** Asserts that parsing `json` throws a RunSpecError naming `field` with `problem` in its message. */
function rejects(json: unknown, field: string, problem: RegExp): void {
  assert.throws(
    () => parseRunSpec(json),
    (err: unknown) => {
      assert.ok(err instanceof RunSpecError, String(err));
      assert.equal(err.field, field);
      assert.match(err.message, new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `));
      assert.match(err.problem, problem);
      return true;
    },
  );
}

/** `specJson(2)` with `patch` applied to its parsed-JSON copy. */
function patched(patch: (json: SpecJson) => void): Record<string, unknown> {
  const json = structuredClone(specJson(2)) as SpecJson;
  patch(json);
  return json;
}

describe('parseRunSpec', () => {
  it('fills the upstream defaults: thresholds of spec §7.1, filter of §6.2, refinement of §4.4', () => {
    const spec = parseRunSpec(specJson(2));
    assert.deepEqual(spec.pseudoLabel, { minFilterProbability: 0.5, minVoteProbability: 1 });
    assert.deepEqual(spec.filter, { searchTrials: 200, folds: 5, seed: 7 });
    assert.deepEqual(spec.refine, { epochs: 3, lr: 1e-5, pseudoTargetWeight: 0.9 });
    assert.deepEqual(spec.execution, { workers: 'auto', backend: 'auto', parallelism: 1, retryLimit: 2, gpu: false });
    assert.equal(spec.inference.tta, true);
    assert.equal(spec.publish.modelSet, RunSpecDefaults.modelSet);
    assert.deepEqual(spec.models[1], {
      name: 'm1',
      configPath: undefined,
      config: modelConfig('m1'),
      split: 'b',
      epochs: { firstTrain: 1, secondTrain: 1 },
      undersampling: undefined,
    });
  });

  it('reads JSON text, and its JSON form parses back to the same spec', () => {
    const spec = parseRunSpec(JSON.stringify(specJson(3, { preset: 'x', execution: { workers: 2 } })));
    assert.equal(spec.execution.workers, 2);
    assert.deepEqual(parseRunSpec(JSON.parse(JSON.stringify(runSpecToJson(spec)))), spec);
    const capped = parseRunSpec(patched((j) => ((j.models[0] as Record<string, unknown>).undersampling = 96)));
    assert.equal(capped.models[0]!.undersampling, 96);
    assert.deepEqual(parseRunSpec(JSON.parse(JSON.stringify(runSpecToJson(capped)))), capped);
    const byPath = parseRunSpec(patched((j) => (j.models[0]!.config = '../models/a.json')));
    const resolved = resolveModelConfigs(byPath, () => modelConfig('a'));
    assert.deepEqual(parseRunSpec(JSON.parse(JSON.stringify(runSpecToJson(resolved)))), resolved);
  });

  it('inlines configurations given by path, keeping the path, and leaves inline ones alone', () => {
    const spec = parseRunSpec(patched((j) => (j.models[1]!.config = '../models/b.json')));
    assert.equal(spec.models[1]!.config, undefined);
    const read: string[] = [];
    const resolved = resolveModelConfigs(spec, (path) => {
      read.push(path);
      return modelConfig('b', 9);
    });
    assert.deepEqual(read, ['../models/b.json']);
    assert.deepEqual(resolved.models[1], { ...spec.models[1], config: modelConfig('b', 9) });
    assert.equal(resolved.models[0], spec.models[0]);
    assert.throws(
      () => resolveModelConfigs(spec, () => [1, 2]),
      (err: unknown) => err instanceof RunSpecError && err.field === 'spec.models[1].config (../models/b.json)',
    );
  });

  it('rejects each bad field with a one-line error naming it', () => {
    rejects('{"schemaVersion":', 'spec', /not JSON/);
    rejects([], 'spec', /must be an object/);
    rejects(
      patched((j) => delete j.schemaVersion),
      'spec.schemaVersion',
      /missing; this kzr reads schema version 1/,
    );
    rejects(
      patched((j) => (j.schemaVersion = 2)),
      'spec.schemaVersion',
      /unknown schema version 2/,
    );
    rejects(
      patched((j) => (j.modles = [])),
      'spec.modles',
      /unknown field/,
    );
    rejects(
      patched((j) => (j.dataset = {})),
      'spec.dataset',
      /a name or a synthetic dataset/,
    );
    rejects(
      patched((j) => (j.dataset = { name: '../x' })),
      'spec.dataset.name',
      /must be a name/,
    );
    rejects(
      patched((j) => (j.dataset = { synthetic: { books: 3, holdoutBooks: 3, pagesPerBook: 2, classes: 10, seed: 1 } })),
      'spec.dataset.synthetic.holdoutBooks',
      /integer in \[0, 2\], got 3/,
    );
    rejects(
      patched((j) => (j.models = [])),
      'spec.models',
      /1 to 32 items/,
    );
    rejects(
      patched((j) => (j.models[1]!.epochs.firstTrain = 0)),
      'spec.models[1].epochs.firstTrain',
      /must be a positive integer, got 0/,
    );
    rejects(
      patched((j) => ((j.models[1] as Record<string, unknown>).undersampling = 0.5)),
      'spec.models[1].undersampling',
      /must be a positive integer/,
    );
    rejects(
      patched((j) => (j.models[1]!.epochs.third = 1)),
      'spec.models[1].epochs.third',
      /unknown field/,
    );
    rejects(
      patched((j) => (j.models[1]!.name = 'm0')),
      'spec.models[1].name',
      /duplicate model m0/,
    );
    rejects(
      patched((j) => (j.models[0]!.name = 'First/Train')),
      'spec.models[0].name',
      /must be a name/,
    );
    rejects(
      patched((j) => (j.models[0]!.split = 'c')),
      'spec.models[0].split',
      /names no split/,
    );
    rejects(
      patched((j) => (j.models[0]!.config = 3)),
      'spec.models[0].config',
      /path or an inline/,
    );
    rejects(
      patched((j) => {
        j.models[0]!.config = 'a.json';
        j.models[0]!.configPath = 'b.json';
      }),
      'spec.models[0].configPath',
      /only beside an inline/,
    );
    rejects(
      patched((j) => (j.split.splits = [])),
      'spec.split.splits',
      /at least 1/,
    );
    rejects(
      patched((j) => (j.split.splits[1]!.name = 'a')),
      'spec.split.splits[1].name',
      /duplicate split a/,
    );
    rejects(
      patched((j) => (j.split.testBooks = ['900000002'])),
      'spec.split.testBooks[0]',
      /a split's val book/,
    );
    rejects(
      patched((j) => (j.split.testBooks = ['9', '9'])),
      'spec.split.testBooks',
      /twice/,
    );
    rejects(
      patched((j) => (j.pseudoLabel = { minVoteProbability: 0 })),
      'spec.pseudoLabel.minVoteProbability',
      /\(0, 1\]/,
    );
    rejects(
      patched((j) => (j.pseudoLabel = { minFilterProbability: 1.5 })),
      'spec.pseudoLabel.minFilterProbability',
      /\[0, 1\]/,
    );
    rejects(
      patched((j) => (j.filter = { folds: 1 })),
      'spec.filter.folds',
      /\[2, 20\]/,
    );
    rejects(
      patched((j) => (j.filter = { searchTrials: -1 })),
      'spec.filter.searchTrials',
      /\[0, 10000\]/,
    );
    rejects(
      patched((j) => (j.refine = { lr: 0 })),
      'spec.refine.lr',
      /\(0, 10\]/,
    );
    rejects(
      patched((j) => (j.refine = { pseudoTargetWeight: 1.1 })),
      'spec.refine.pseudoTargetWeight',
      /\(0, 1\]/,
    );
    rejects(
      patched((j) => (j.inference = { tta: 'yes' })),
      'spec.inference.tta',
      /true or false/,
    );
    rejects(
      patched((j) => (j.execution = { workers: 0 })),
      'spec.execution.workers',
      /\[1, 256\]/,
    );
    rejects(
      patched((j) => (j.execution = { backend: 'webgl' })),
      'spec.execution.backend',
      /one of auto, gpu, node, wasm, cpu/,
    );
    rejects(
      patched((j) => (j.execution = { retryLimit: 11 })),
      'spec.execution.retryLimit',
      /\[0, 10\]/,
    );
    rejects(
      patched((j) => (j.execution = { parallelism: 0 })),
      'spec.execution.parallelism',
      /\[1, 64\]/,
    );
    rejects(
      patched((j) => (j.execution = { gpu: true, backend: 'wasm' })),
      'spec.execution.backend',
      /cannot use the GPU/,
    );
  });
});
