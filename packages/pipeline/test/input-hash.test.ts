import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  buildPhaseGraph,
  canonicalJson,
  downstreamOf,
  parseRunSpec,
  PhaseCodeVersion,
  phaseInputHash,
  RunSpecError,
  type PhaseGraph,
  type PhaseId,
} from '../src/index.js';
import { modelConfig, sha, specJson, type SpecJson } from './fixtures.js';

/**
 * Every phase's input hash for a run, walking the graph as the runner would: a phase's manifest
 * is modelled as the hash of its input hash (same inputs, same outputs), so a changed input
 * hash reaches everything downstream through the manifests.
 */
function allHashes(g: PhaseGraph, dataset = sha('dataset')): Map<PhaseId, string> {
  const hashes = new Map<PhaseId, string>();
  const manifests = new Map<PhaseId, string>();
  for (const node of g.phases) {
    const inputs: Record<string, string> = { ...(node.externalInputs.length > 0 ? { dataset } : {}) };
    for (const d of node.dependsOn) inputs[d] = manifests.get(d)!;
    const hash = phaseInputHash(g.spec, node, inputs);
    hashes.set(node.id, hash);
    manifests.set(node.id, sha(`manifest of ${hash}`));
  }
  return hashes;
}

function changed(a: Map<PhaseId, string>, b: Map<PhaseId, string>): PhaseId[] {
  return [...a.keys()].filter((id) => a.get(id) !== b.get(id));
}

/** The graph of `specJson(5)` after `patch`. */
function graphOf(patch: (json: SpecJson) => void = () => {}): PhaseGraph {
  const json = structuredClone(specJson(5)) as SpecJson;
  patch(json);
  return buildPhaseGraph(parseRunSpec(json));
}

describe('input hashes', () => {
  it('are canonical: key order does not matter, values do', () => {
    assert.equal(
      canonicalJson({ b: [1, { d: 2, c: 'x' }], a: null, u: undefined }),
      '{"a":null,"b":[1,{"c":"x","d":2}]}',
    );
    assert.throws(() => canonicalJson({ x: Number.NaN }), RunSpecError);
  });

  it('are stable: the same spec and inputs give the same hashes, whatever the key order of the configuration', () => {
    const reordered = graphOf((j) => {
      const config = j.models[2]!.config as Record<string, unknown>;
      j.models[2]!.config = Object.fromEntries(Object.entries(config).reverse());
    });
    assert.deepEqual(allHashes(graphOf()), allHashes(reordered));
    // A pinned value (checked with Python's json.dumps(sort_keys=True) + hashlib): this fails when
    // the hashed document changes, which must come with a bump of PhaseCodeVersion or of the hash
    // format, so that old cache entries stop matching.
    const preprocess = graphOf().byId.get('preprocess')!;
    assert.equal(
      phaseInputHash(graphOf().spec, preprocess, { dataset: sha('dataset') }),
      'f44ea3ab0d95c7ebacc3d8a6b7197601b1e63186dda3ae4e19ae6b462663fb37',
    );
  });

  it("change for exactly one model's phases and what is downstream when that model's configuration changes", () => {
    const before = allHashes(graphOf());
    const after = allHashes(graphOf((j) => (j.models[3]!.config = modelConfig('m3', 7))));
    const g = graphOf();
    // Its first training and everything downstream of it, which is all but the other first trainings.
    assert.deepEqual(changed(before, after), ['first-train/m3', ...downstreamOf(g, 'first-train/m3')]);
    assert.deepEqual(
      g.phases.map((p) => p.id).filter((id) => before.get(id) === after.get(id)),
      ['preprocess', 'split', 'first-train/m0', 'first-train/m1', 'first-train/m2', 'first-train/m4'],
    );
  });

  it("change for one model's second training and its refinement only when its second-training epochs change", () => {
    const before = allHashes(graphOf());
    const after = allHashes(graphOf((j) => (j.models[1]!.epochs.secondTrain = 4)));
    assert.deepEqual(changed(before, after), ['second-train/m1', 'refine/m1', 'final-infer', 'publish']);
  });

  it('change where each part of the spec is read, and not for execution settings that leave outputs alone', () => {
    const before = allHashes(graphOf());
    const diff = (patch: (json: SpecJson) => void): PhaseId[] => changed(before, allHashes(graphOf(patch)));
    assert.deepEqual(
      diff((j) => (j.execution = { parallelism: 4, retryLimit: 0 })),
      [],
    );
    assert.deepEqual(
      diff((j) => (j.publish = { modelSet: 'other' })),
      ['publish'],
    );
    assert.deepEqual(diff((j) => (j.refine = { epochs: 1 })).slice(0, 5), [
      'refine/m0',
      'refine/m1',
      'refine/m2',
      'refine/m3',
      'refine/m4',
    ]);
    assert.equal(diff((j) => (j.pseudoLabel = { minVoteProbability: 0.9 }))[0], 'pseudo-label');
    assert.equal(diff((j) => (j.filter = { searchTrials: 2 }))[0], 'first-filter');
    assert.equal(diff((j) => (j.split.seed = 4))[0], 'split');
    assert.equal(diff((j) => (j.dataset = { name: 'other' })).length, graphOf().phases.length);
    assert.equal(changed(before, allHashes(graphOf(), sha('other dataset'))).length, graphOf().phases.length);
    // A pinned backend changes every training and inference.
    assert.ok(diff((j) => (j.execution = { backend: 'wasm' })).includes('first-train/m0'));
  });

  it('change with the code version of the phase', () => {
    const g = graphOf();
    const node = g.byId.get('split')!;
    const inputs = { preprocess: sha('p') };
    assert.notEqual(
      phaseInputHash(g.spec, node, inputs),
      phaseInputHash(g.spec, node, inputs, { ...PhaseCodeVersion, split: PhaseCodeVersion.split + 1 }),
    );
  });

  it('refuse missing, extra or malformed inputs and configurations not inlined', () => {
    const g = graphOf();
    const split = g.byId.get('split')!;
    const field = (f: string) => (err: unknown) => err instanceof RunSpecError && err.field === f;
    assert.throws(() => phaseInputHash(g.spec, split, {}), field('inputs.preprocess'));
    assert.throws(() => phaseInputHash(g.spec, split, { preprocess: 'abc' }), field('inputs.preprocess'));
    assert.throws(
      () => phaseInputHash(g.spec, split, { preprocess: sha('p'), dataset: sha('d') }),
      field('inputs.dataset'),
    );
    const byPath = graphOf((j) => (j.models[0]!.config = '../models/x.json'));
    assert.throws(
      () => phaseInputHash(byPath.spec, byPath.byId.get('first-train/m0')!, { split: sha('s') }),
      field('spec.models[0].config'),
    );
  });
});
