import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { downstreamOf, parsePhaseId, RunRecordError } from '../src/index.js';
import { graph } from './fixtures.js';

describe('the phase graph', () => {
  it('has the phases of DESIGN.md "Runs" for 2 models, each after what it reads', () => {
    const g = graph(2);
    assert.deepEqual(
      g.phases.map((p) => [p.id, p.dependsOn]),
      [
        ['preprocess', []],
        ['split', ['preprocess']],
        ['first-train/m0', ['split']],
        ['first-train/m1', ['split']],
        ['first-infer', ['preprocess', 'split', 'first-train/m0', 'first-train/m1']],
        ['first-filter', ['preprocess', 'first-infer']],
        ['pseudo-label', ['preprocess', 'first-infer', 'first-filter']],
        ['second-train/m0', ['split', 'pseudo-label']],
        ['second-train/m1', ['split', 'pseudo-label']],
        ['refine/m0', ['split', 'pseudo-label', 'second-train/m0']],
        ['refine/m1', ['split', 'pseudo-label', 'second-train/m1']],
        [
          'final-infer',
          [
            'preprocess',
            'split',
            'first-infer',
            'first-filter',
            'pseudo-label',
            'second-train/m0',
            'second-train/m1',
            'refine/m0',
            'refine/m1',
          ],
        ],
        ['publish', ['final-infer', 'refine/m0', 'refine/m1']],
      ],
    );
    assert.deepEqual(g.byId.get('refine/m1'), {
      id: 'refine/m1',
      phase: 'refine',
      model: 'm1',
      dependsOn: ['split', 'pseudo-label', 'second-train/m1'],
      externalInputs: [],
    });
    assert.deepEqual(g.byId.get('preprocess')?.externalInputs, ['dataset']);
  });

  it('has 3 phases per model and 7 others for 5 models, in a topological order', () => {
    const g = graph(5);
    assert.equal(g.phases.length, 7 + 3 * 5);
    for (const phase of ['first-train', 'second-train', 'refine']) {
      assert.deepEqual(
        g.phases.filter((p) => p.phase === phase).map((p) => p.model),
        ['m0', 'm1', 'm2', 'm3', 'm4'],
      );
    }
    const seen = new Set<string>();
    for (const p of g.phases) {
      for (const d of p.dependsOn) assert.ok(seen.has(d), `${p.id} comes before ${d}`);
      seen.add(p.id);
    }
    assert.equal(g.phases.at(-1)?.id, 'publish');
    assert.equal(g.byId.get('first-infer')?.dependsOn.filter((d) => d.startsWith('first-train/')).length, 5);
  });

  it("reaches from one model's first training everything but the other models' first trainings", () => {
    const g = graph(3);
    assert.deepEqual(downstreamOf(g, 'first-train/m1'), [
      'first-infer',
      'first-filter',
      'pseudo-label',
      'second-train/m0',
      'second-train/m1',
      'second-train/m2',
      'refine/m0',
      'refine/m1',
      'refine/m2',
      'final-infer',
      'publish',
    ]);
    assert.deepEqual(downstreamOf(g, 'second-train/m1'), ['refine/m1', 'final-infer', 'publish']);
    assert.deepEqual(downstreamOf(g, 'publish'), []);
  });

  it('parses phase ids and refuses what is not one', () => {
    assert.deepEqual(parsePhaseId('refine/m2'), { phase: 'refine', model: 'm2' });
    assert.deepEqual(parsePhaseId('split'), { phase: 'split', model: undefined });
    for (const bad of ['refine', 'split/m0', 'train/m0', 'refine/../x', 'refine/']) {
      assert.throws(
        () => parsePhaseId(bad, 'run.events[0].phase'),
        (err: unknown) => {
          return err instanceof RunRecordError && err.field === 'run.events[0].phase';
        },
      );
    }
  });
});
