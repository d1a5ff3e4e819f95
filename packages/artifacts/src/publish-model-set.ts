/**
 * Writes a model-set version into the Store: member files first (their sha256 comes back from
 * the Store), the manifest last, so a reader that sees the manifest finds every file complete.
 * Used by the trainer's publish phase, `kzr model import-onnx` and the tests.
 */
import type { Classifier } from '@kzr/ml';
import { type Store } from '@kzr/platform';

import { checkSegment, modelSetFileKey, modelSetManifestKey } from './keys.js';
import {
  type EngineChoice,
  type FileRef,
  type InputSpec,
  type MemberManifest,
  modelSetManifestFormat,
  PagePreprocessing,
  modelSetSchemaVersion,
  type ModelSetManifest,
  parseClassMapFile,
  parseManifest,
  type VotingMode,
} from './model-set-manifest.js';
import { encodeSafetensors } from './safetensors.js';

/** A member to publish: a kzr classifier (weights read from it) or ONNX bytes. */
export type MemberSource =
  | { readonly name: string; readonly kind: 'kzr'; readonly model: Classifier; readonly input: InputSpec }
  | {
      readonly name: string;
      readonly kind: 'onnx';
      readonly onnx: Uint8Array;
      readonly input: InputSpec;
      readonly inputName?: string;
      readonly outputName?: string;
    };

/** Options of {@link publishModelSet}. */
export interface PublishModelSetOptions {
  readonly modelSet: string;
  readonly version: string;
  /** Class codes in class-index order, shared by every member. */
  readonly codes: readonly string[];
  readonly members: readonly MemberSource[];
  readonly engine?: EngineChoice;
  readonly voting?: VotingMode;
  /**
   * The page preprocessing the members' training crops had. The default is the training
   * pipeline's (its preprocess phase crops Ben-filtered, denoised pages, as upstream); a set
   * trained on crops of raw scans must say `none`.
   * @default 'ben+denoise'
   */
  readonly pagePreprocessing?: PagePreprocessing;
  /** @default now */
  readonly createdAt?: Date;
}

/** Serialises a classifier's variables as safetensors. */
export async function classifierWeights(model: Classifier): Promise<Uint8Array> {
  const tensors = [];
  for (const e of model.params.entries) {
    tensors.push({ name: e.name, shape: e.variable.shape, data: (await e.variable.data()) as Float32Array });
  }
  return encodeSafetensors(tensors, { arch: model.config.arch });
}

/** Writes the version and returns its manifest (also at `models/<set>/<version>/manifest.json`). */
export async function publishModelSet(store: Store, options: PublishModelSetOptions): Promise<ModelSetManifest> {
  const modelSet = checkSegment('modelSet', options.modelSet);
  const version = checkSegment('version', options.version);
  for (const [i, m] of options.members.entries()) checkSegment(`members[${i}].name`, m.name);
  const put = async (key: string, bytes: Uint8Array, contentType: string): Promise<FileRef> => {
    const r = await store.put(modelSetFileKey(modelSet, version, key), bytes, { contentType });
    return { key, sha256: r.sha256 };
  };
  parseClassMapFile({ codes: options.codes });
  const classMap = await put(
    'class-map.json',
    Buffer.from(JSON.stringify({ codes: options.codes })),
    'application/json',
  );
  const members: MemberManifest[] = [];
  for (const m of options.members) {
    if (m.kind === 'kzr') {
      const weights = await put(`${m.name}.safetensors`, await classifierWeights(m.model), 'application/octet-stream');
      members.push({ name: m.name, kind: 'kzr', architecture: m.model.config, weights, classMap, input: m.input });
    } else {
      const onnx = await put(`${m.name}.onnx`, m.onnx, 'application/octet-stream');
      members.push({
        name: m.name,
        kind: 'onnx',
        onnx,
        classMap,
        input: m.input,
        ...(m.inputName !== undefined ? { inputName: m.inputName } : {}),
        ...(m.outputName !== undefined ? { outputName: m.outputName } : {}),
      });
    }
  }
  const manifest = parseManifest({
    format: modelSetManifestFormat,
    schemaVersion: modelSetSchemaVersion,
    modelSet,
    version,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    engine: options.engine ?? 'auto',
    voting: options.voting ?? 'hard',
    pagePreprocessing: options.pagePreprocessing ?? PagePreprocessing.BenDenoise,
    members,
  });
  await store.put(modelSetManifestKey(modelSet, version), Buffer.from(JSON.stringify(manifest, null, 2)), {
    contentType: 'application/json',
  });
  return manifest;
}
