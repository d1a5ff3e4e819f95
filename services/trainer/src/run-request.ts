/**
 * What a request to train says, from StartRun or a `kzr.training.requested` event alike: a
 * preset (default `default`) or a whole spec as JSON, and the dataset, which must be in the Store
 * already (by name, or the spec's synthetic dataset once generated and ingested, which `kzr run
 * start` does). A bad request is a ValidationError naming the request's field.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { RunSpec as WireRunSpec } from '@kzr/api/kzr/v1/common';
import { checkSegment } from '@kzr/artifacts';
import { parseRunSpec, resolveModelConfigs, type RunSpec } from '@kzr/pipeline';
import { type Store, ValidationError } from '@kzr/platform';

import { repoRoot } from './paths.js';
import { loadRunSpec, type StoredRunDataset, storedDatasetDigest, syntheticDatasetName } from './run-create.js';

/** The fields of a request to train (StartRunRequest and TrainingRequested share them). */
export interface RunRequest {
  readonly preset: string;
  readonly specJson: string;
  /** Of the wire spec, only `dataset` is read: it names the stored dataset to train on. */
  readonly spec: WireRunSpec | undefined;
}

/** A spec given as JSON: model configuration paths are read relative to `configs/runs/`, as a preset's. */
function parseSpecJson(text: string): RunSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError('spec_json', `not JSON: ${(err as Error).message}`);
  }
  const presets = join(repoRoot, 'configs', 'runs');
  return resolveModelConfigs(parseRunSpec(value), (path) => {
    const file = resolve(presets, path);
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ValidationError('spec_json', `model configuration ${path}: ${(err as Error).message}`, { cause: err });
    }
  });
}

/** Checks that the wire spec sets nothing but `dataset`: the rest lives in the preset or `spec_json`. */
function checkWireSpec(spec: WireRunSpec | undefined): void {
  if (spec === undefined) return;
  const set = (
    [
      ['model_configs', spec.modelConfigs.length > 0],
      ['val_books', spec.valBooks.length > 0],
      ['seed', spec.seed !== 0],
      ['phases', spec.phases.length > 0],
      ['model_set', spec.modelSet !== ''],
      ['labels', Object.keys(spec.labels).length > 0],
    ] as const
  ).find(([, isSet]) => isSet);
  if (set !== undefined) {
    throw new ValidationError(`spec.${set[0]}`, 'is not supported: give a preset or spec_json, and spec.dataset');
  }
}

/** The spec a request asks for: `spec_json`, else the preset (`default` when empty). */
export async function runSpecOfRequest(request: RunRequest): Promise<RunSpec> {
  checkWireSpec(request.spec);
  if (request.specJson !== '') return parseSpecJson(request.specJson);
  return loadRunSpec({ preset: request.preset || 'default' }, 'preset');
}

/**
 * The stored dataset a request trains on: `spec.dataset`, else the spec's name, else its
 * synthetic dataset under {@link syntheticDatasetName}. Not in the Store: a ValidationError.
 */
export async function datasetOfRequest(store: Store, request: RunRequest, spec: RunSpec): Promise<StoredRunDataset> {
  const wire = request.spec?.dataset ?? '';
  const field = wire !== '' ? 'spec.dataset' : request.specJson !== '' ? 'spec_json' : 'preset';
  const name = checkSegment(field, wire || spec.dataset.name || syntheticDatasetName(spec.dataset.synthetic!));
  // The spec's synthetic dataset stays in the record (and the preprocess phase's input hash) as
  // `kzr run start` records it, whichever way the request named it.
  const specSynthetic = spec.dataset.synthetic;
  const synthetic =
    specSynthetic !== undefined && name === syntheticDatasetName(specSynthetic) ? specSynthetic : undefined;
  const digest = await storedDatasetDigest(store, name);
  if (digest === undefined) {
    throw new ValidationError(
      field,
      `no dataset "${name}" in the Store (store it with kzr data ingest${synthetic ? ', or generate it with kzr run start' : ''})`,
    );
  }
  return { name, digest, synthetic };
}
