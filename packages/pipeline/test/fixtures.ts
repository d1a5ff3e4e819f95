/** Run specs for the tests: `n` models with small inline configurations, two splits. */
import { createHash } from 'node:crypto';

import { buildPhaseGraph, parseRunSpec, type PhaseGraph, type RunSpec } from '../src/index.js';

/** A model configuration as `configs/models/*.json` holds it (the pipeline treats it as data). */
export function modelConfig(name: string, epochs = 2): Record<string, unknown> {
  return {
    name,
    model: { arch: 'resnet18', inputChannels: 1, numClasses: 10, widthMultiplier: 0.25 },
    train: { batchSize: 32, epochs },
  };
}

/** A spec's JSON as tests patch it. */
export interface SpecJson {
  [field: string]: unknown;
  models: { [field: string]: unknown; epochs: Record<string, unknown> }[];
  split: { [field: string]: unknown; splits: Record<string, unknown>[] };
}

/** The JSON of a spec with models `m0` … `m<n-1>`, before parsing. */
export function specJson(n: number, overrides: Record<string, unknown> = {}): SpecJson {
  return {
    schemaVersion: 1,
    dataset: { name: 'synth-test' },
    models: Array.from({ length: n }, (_, i) => ({
      name: `m${i}`,
      config: modelConfig(`m${i}`),
      split: i % 2 === 0 ? 'a' : 'b',
      epochs: { firstTrain: 1, secondTrain: 1 },
    })),
    split: {
      seed: 3,
      splits: [
        { name: 'a', valBook: '900000002' },
        { name: 'b', valBook: '900000003' },
      ],
      testBooks: ['900000004'],
    },
    ...overrides,
  };
}

/** A parsed spec of `n` models. */
export function spec(n: number, overrides: Record<string, unknown> = {}): RunSpec {
  return parseRunSpec(specJson(n, overrides));
}

/** The graph of a spec of `n` models. */
export function graph(n: number, overrides: Record<string, unknown> = {}): PhaseGraph {
  return buildPhaseGraph(spec(n, overrides));
}

/** A well-formed sha256 standing for `label` (a manifest, a dataset). */
export function sha(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}
