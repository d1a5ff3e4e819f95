/**
 * Model-set manifests: `models/<set>/<version>/manifest.json` in the Store (schema version
 * {@link modelSetSchemaVersion}) lists the members of
 * one version (a kzr zoo model with its architecture and safetensors weights, or an ONNX file
 * exported elsewhere), each with its class map and input spec, and the sha256 of every file.
 * File keys are relative to the version's folder.
 */
import { type ArchitectureConfig, validateArchitecture } from '@kzr/ml/architecture';
import { ValidationError } from '@kzr/platform';

import { checkRelativeKey, checkSegment } from './keys.js';
import { checkSchemaVersion } from './schema.js';

/** Format tag of a model-set manifest. */
export const modelSetManifestFormat = 'kzr.model-set';

/**
 * Schema version of the manifests this code writes. Version 2 added `pagePreprocessing`; a
 * version 1 manifest is still read, as `ben+denoise` (what RecognizePage served such sets).
 */
export const modelSetSchemaVersion = 2 as const;

/** Which engine runs a set's members. `auto`: ONNX Runtime where it loads, else tfjs. */
export const EngineChoice = { Auto: 'auto', Onnx: 'onnx', Tfjs: 'tfjs' } as const;
/** One of {@link EngineChoice}. */
export type EngineChoice = (typeof EngineChoice)[keyof typeof EngineChoice];

/** How the members' answers are combined (spec §5.4). */
export const VotingMode = { Hard: 'hard', Soft: 'soft' } as const;
/** One of {@link VotingMode}. */
export type VotingMode = (typeof VotingMode)[keyof typeof VotingMode];

/**
 * The page preprocessing the set's training crops were cut after (DESIGN.md "The page path"):
 * `none` (crops of the scans as they are) or `ben+denoise` (Ben's filter, then colour
 * non-local-means denoising, spec §2.1). RecognizePage applies exactly this to a page, so
 * training and serving see the same pixels.
 */
export const PagePreprocessing = { None: 'none', BenDenoise: 'ben+denoise' } as const;
/** One of {@link PagePreprocessing}. */
export type PagePreprocessing = (typeof PagePreprocessing)[keyof typeof PagePreprocessing];

/** A file of the version, relative to `models/<set>/<version>/`, with its sha256. */
export interface FileRef {
  readonly key: string;
  readonly sha256: string;
}

/** How a member wants its pixels (spec §2.3, §5.3). */
export interface InputSpec {
  /** 1 (grayscale first) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** S: the crop is resized (bicubic) to S×S. */
  readonly scaleSize: number;
  /** C: the side of the views the model sees. */
  readonly cropSize: number;
  /** Per-channel mean on [0, 1] values. */
  readonly mean: readonly number[];
  /** Per-channel std on [0, 1] values. */
  readonly std: readonly number[];
  /** Tensor layout of an ONNX member's input. @default 'nchw' */
  readonly layout?: 'nchw' | 'nhwc';
}

/** One model of a set. */
export type MemberManifest =
  | {
      readonly name: string;
      readonly kind: 'kzr';
      readonly architecture: ArchitectureConfig;
      /** safetensors, keyed by the model's variable names. */
      readonly weights: FileRef;
      readonly classMap: FileRef;
      readonly input: InputSpec;
    }
  | {
      readonly name: string;
      readonly kind: 'onnx';
      readonly onnx: FileRef;
      readonly classMap: FileRef;
      readonly input: InputSpec;
      /** Graph input / output names; default: the model's first. */
      readonly inputName?: string;
      readonly outputName?: string;
    };

/** One version of a model set. */
export interface ModelSetManifest {
  readonly format: typeof modelSetManifestFormat;
  readonly schemaVersion: typeof modelSetSchemaVersion;
  readonly modelSet: string;
  readonly version: string;
  /** RFC 3339; the newest published version is the one with the latest `createdAt`. */
  readonly createdAt: string;
  /** @default 'auto' */
  readonly engine?: EngineChoice;
  /** Voting when a request does not choose. @default 'hard' */
  readonly voting?: VotingMode;
  /** How pages are preprocessed before their crops are cut for this set. */
  readonly pagePreprocessing: PagePreprocessing;
  readonly members: readonly MemberManifest[];
}

/** A class map file: the codes in class-index order. */
export interface ClassMapFile {
  readonly codes: readonly string[];
}

function obj(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'expected an object');
  }
  return value as Record<string, unknown>;
}

function fileRef(field: string, value: unknown): FileRef {
  const o = obj(field, value);
  const key = checkRelativeKey(`${field}.key`, o.key);
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) {
    throw new ValidationError(`${field}.sha256`, 'expected 64 lowercase hex digits');
  }
  return { key, sha256: o.sha256 };
}

function positiveInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValidationError(field, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks an input spec. */
export function parseInputSpec(field: string, value: unknown): InputSpec {
  const o = obj(field, value);
  if (o.channels !== 1 && o.channels !== 3) throw new ValidationError(`${field}.channels`, 'expected 1 or 3');
  const scaleSize = positiveInt(`${field}.scaleSize`, o.scaleSize);
  const cropSize = positiveInt(`${field}.cropSize`, o.cropSize);
  if (cropSize > scaleSize)
    throw new ValidationError(`${field}.cropSize`, `${cropSize} exceeds scaleSize ${scaleSize}`);
  const vec = (name: 'mean' | 'std'): number[] => {
    const v = o[name];
    if (!Array.isArray(v) || (v.length !== 1 && v.length !== o.channels)) {
      throw new ValidationError(`${field}.${name}`, `expected 1 or ${String(o.channels)} numbers`);
    }
    for (const x of v) {
      if (typeof x !== 'number' || !Number.isFinite(x) || (name === 'std' && x <= 0)) {
        throw new ValidationError(`${field}.${name}`, `bad value ${JSON.stringify(x)}`);
      }
    }
    return v as number[];
  };
  const layout = o.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw new ValidationError(`${field}.layout`, 'expected nchw or nhwc');
  return { channels: o.channels, scaleSize, cropSize, mean: vec('mean'), std: vec('std'), layout };
}

/** Parses and checks a manifest; throws a ValidationError naming the bad field. */
export function parseManifest(value: unknown): ModelSetManifest {
  const o = obj('manifest', value);
  if (o.format !== modelSetManifestFormat) {
    throw new ValidationError('manifest.format', `expected ${modelSetManifestFormat}, got ${JSON.stringify(o.format)}`);
  }
  // Version 1 predates `pagePreprocessing`; its sets were served Ben + denoise pages.
  const legacy = o.schemaVersion === 1;
  if (!legacy) checkSchemaVersion('manifest.schemaVersion', o.schemaVersion, modelSetSchemaVersion);
  const modelSet = checkSegment('manifest.modelSet', o.modelSet);
  const version = checkSegment('manifest.version', o.version);
  if (typeof o.createdAt !== 'string' || Number.isNaN(Date.parse(o.createdAt))) {
    throw new ValidationError('manifest.createdAt', 'expected an RFC 3339 time');
  }
  const engine = o.engine ?? EngineChoice.Auto;
  if (!(Object.values(EngineChoice) as unknown[]).includes(engine)) {
    throw new ValidationError('manifest.engine', `expected ${Object.values(EngineChoice).join(', ')}`);
  }
  const voting = o.voting ?? VotingMode.Hard;
  if (voting !== 'hard' && voting !== 'soft') throw new ValidationError('manifest.voting', 'expected hard or soft');
  const pagePreprocessing = legacy ? PagePreprocessing.BenDenoise : o.pagePreprocessing;
  if (!(Object.values(PagePreprocessing) as unknown[]).includes(pagePreprocessing)) {
    throw new ValidationError(
      'manifest.pagePreprocessing',
      `expected ${Object.values(PagePreprocessing).join(' or ')}, got ${JSON.stringify(pagePreprocessing)}`,
    );
  }
  if (!Array.isArray(o.members) || o.members.length === 0) {
    throw new ValidationError('manifest.members', 'expected at least one member');
  }
  const names = new Set<string>();
  const members = o.members.map((m: unknown, i: number): MemberManifest => {
    const f = `manifest.members[${i}]`;
    const mo = obj(f, m);
    const name = checkSegment(`${f}.name`, mo.name);
    if (names.has(name)) throw new ValidationError(`${f}.name`, `duplicate member ${name}`);
    names.add(name);
    const input = parseInputSpec(`${f}.input`, mo.input);
    const classMap = fileRef(`${f}.classMap`, mo.classMap);
    if (mo.kind === 'kzr') {
      const architecture = obj(`${f}.architecture`, mo.architecture) as unknown as ArchitectureConfig;
      validateArchitecture(architecture, `${f}.architecture`);
      if (architecture.inputChannels !== input.channels) {
        throw new ValidationError(`${f}.input.channels`, `differs from architecture.inputChannels`);
      }
      return { name, kind: 'kzr', architecture, weights: fileRef(`${f}.weights`, mo.weights), classMap, input };
    }
    if (mo.kind === 'onnx') {
      const opt = (k: 'inputName' | 'outputName'): string | undefined => {
        if (mo[k] === undefined) return undefined;
        if (typeof mo[k] !== 'string') throw new ValidationError(`${f}.${k}`, 'expected a string');
        return mo[k];
      };
      return {
        name,
        kind: 'onnx',
        onnx: fileRef(`${f}.onnx`, mo.onnx),
        classMap,
        input,
        ...(opt('inputName') !== undefined ? { inputName: opt('inputName') } : {}),
        ...(opt('outputName') !== undefined ? { outputName: opt('outputName') } : {}),
      };
    }
    throw new ValidationError(`${f}.kind`, `expected kzr or onnx, got ${JSON.stringify(mo.kind)}`);
  });
  return {
    format: modelSetManifestFormat,
    schemaVersion: modelSetSchemaVersion,
    modelSet,
    version,
    createdAt: o.createdAt,
    engine: engine as EngineChoice,
    voting,
    pagePreprocessing: pagePreprocessing as PagePreprocessing,
    members,
  };
}

/** Parses a class map file. */
export function parseClassMapFile(value: unknown, field = 'classMap'): ClassMapFile {
  const o = obj(field, value);
  if (!Array.isArray(o.codes) || o.codes.length < 2 || o.codes.some((c) => typeof c !== 'string')) {
    throw new ValidationError(`${field}.codes`, 'expected at least two code strings');
  }
  if (new Set(o.codes).size !== o.codes.length) throw new ValidationError(`${field}.codes`, 'duplicate codes');
  return { codes: o.codes as string[] };
}
