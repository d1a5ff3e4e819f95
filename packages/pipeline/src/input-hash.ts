/**
 * Input hashing (DESIGN.md "Runs"): a phase's input hash is the sha256 of the canonical JSON of
 * its code version, its slice of the run spec and the sha256 of the manifest of every phase it
 * reads (plus the dataset's digest for preprocess). An unchanged hash means unchanged outputs,
 * so the phase is skipped on a cache hit; a change anywhere upstream reaches it through the
 * manifests. Changing one model's configuration therefore changes exactly that model's phases
 * directly, and everything downstream of them through their new manifests.
 *
 * `node:crypto`'s hash is the only thing used from Node here; nothing is read or written.
 */
import { createHash } from 'node:crypto';

import { RunSpecError } from './errors.js';
import { FieldReader } from './fields.js';
import { PhaseName, type PhaseNode } from './phase-graph.js';
import type { RunModelSpec, RunSpec } from './run-spec.js';

/**
 * The code version of each phase: bump a phase's number when a change to its implementation
 * changes its outputs for the same inputs, so that cached results of the old code are not reused.
 */
export const PhaseCodeVersion: Readonly<Record<PhaseName, number>> = Object.freeze({
  [PhaseName.Preprocess]: 1,
  [PhaseName.Split]: 1,
  [PhaseName.FirstTrain]: 2,
  [PhaseName.FirstInfer]: 1,
  [PhaseName.FirstFilter]: 1,
  [PhaseName.PseudoLabel]: 1,
  [PhaseName.SecondTrain]: 2,
  [PhaseName.Refine]: 2,
  [PhaseName.FinalInfer]: 1,
  [PhaseName.Publish]: 1,
});

/** Format of the hashed document; part of every hash, so a new format misses every old entry. */
const hashFormat = 'kzr.phase-input/1';

/**
 * JSON with object keys sorted at every level and no whitespace: the same value gives the same
 * text whatever order its keys were built in. `undefined` members are left out, as
 * `JSON.stringify` does; non-finite numbers are refused (JSON has none).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RunSpecError('spec', `cannot hash the number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new RunSpecError('spec', `cannot hash a ${typeof value}`);
}

function modelOf(spec: RunSpec, node: PhaseNode): { index: number; model: RunModelSpec } {
  const index = spec.models.findIndex((m) => m.name === node.model);
  const model = spec.models[index];
  if (model === undefined) throw new RunSpecError('spec.models', `no model ${String(node.model)} for phase ${node.id}`);
  if (model.config === undefined) {
    throw new RunSpecError(
      `spec.models[${index}].config`,
      `${String(model.configPath)} is not inlined; resolveModelConfigs before hashing`,
    );
  }
  return { index, model };
}

/**
 * The part of the spec a phase's outputs depend on (beyond its input manifests). What only
 * decides how Jobs run (parallelism, retries, the GPU request) is left out; the backend and the
 * workers of training and inference are in, since they may change the numbers.
 */
export function phaseSpecSlice(spec: RunSpec, node: PhaseNode): unknown {
  const { backend, workers } = spec.execution;
  const models = spec.models.map((m) => m.name);
  switch (node.phase) {
    case PhaseName.Preprocess:
      return { dataset: spec.dataset };
    case PhaseName.Split:
      return { split: spec.split };
    case PhaseName.FirstTrain:
    case PhaseName.SecondTrain: {
      const { model } = modelOf(spec, node);
      const epochs = node.phase === PhaseName.FirstTrain ? model.epochs.firstTrain : model.epochs.secondTrain;
      return {
        model: model.name,
        config: model.config,
        split: model.split,
        epochs,
        undersampling: model.undersampling,
        valTta: spec.inference.tta,
        backend,
        workers,
      };
    }
    case PhaseName.Refine: {
      const { model } = modelOf(spec, node);
      return {
        model: model.name,
        config: model.config,
        split: model.split,
        refine: spec.refine,
        valTta: spec.inference.tta,
        backend,
        workers,
      };
    }
    case PhaseName.FirstInfer:
      return { models, inference: spec.inference, backend };
    case PhaseName.FirstFilter:
      return { filter: spec.filter };
    case PhaseName.PseudoLabel:
      return { pseudoLabel: spec.pseudoLabel };
    case PhaseName.FinalInfer:
      return { models, inference: spec.inference, filter: spec.filter, backend };
    case PhaseName.Publish:
      return { models, publish: spec.publish };
  }
}

/**
 * The input hash of a phase (64 hex digits). `inputs` maps every phase the node depends on,
 * and every external input it reads, to the sha256 of its manifest (or of the dataset); a
 * missing or extra entry throws, since either would make the hash lie.
 */
export function phaseInputHash(
  spec: RunSpec,
  node: PhaseNode,
  inputs: Readonly<Record<string, string>>,
  codeVersions: Readonly<Record<PhaseName, number>> = PhaseCodeVersion,
): string {
  const r = new FieldReader((field, problem) => new RunSpecError(field, problem));
  const wanted = [...node.dependsOn, ...node.externalInputs];
  for (const name of wanted) r.sha256(`inputs.${name}`, inputs[name]);
  for (const name of Object.keys(inputs)) {
    if (!wanted.includes(name)) r.fail(`inputs.${name}`, `phase ${node.id} does not read it`);
  }
  const document = {
    format: hashFormat,
    phase: node.phase,
    code: codeVersions[node.phase],
    spec: phaseSpecSlice(spec, node),
    inputs: Object.fromEntries(wanted.map((name) => [name, inputs[name]])),
  };
  return createHash('sha256').update(canonicalJson(document)).digest('hex');
}
