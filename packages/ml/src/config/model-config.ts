/**
 * The model configuration file (`configs/models/*.json`, documented in configs/models/README.md):
 * architecture, input geometry and normalisation, augmentation and training hyperparameters.
 * {@link parseModelConfig} fills defaults (the upstream values of spec §2.3–§4.3) and validates,
 * returning a frozen object; a bad field throws {@link MlValidationError} naming it.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { MlValidationError } from '../errors.js';
import { validateArchitecture } from '../models/validate-architecture.js';
import { type ArchitectureConfig } from '../models/types.js';

/** Per-batch mixing augmentation. */
export const BatchMix = { None: 'none', Mixup: 'mixup', Icap: 'icap' } as const;
export type BatchMix = (typeof BatchMix)[keyof typeof BatchMix];

/** Input geometry (square sizes in pixels) and normalisation. */
export interface InputConfig {
  /** Train: resize to S×S, then RandomResizedCrop to C. @default 124 / 112 */
  readonly trainResize: number;
  readonly trainCrop: number;
  /** Inference (TTA 7-crop and validation): resize to S×S, crop C. @default 120 / 112 */
  readonly inferResize: number;
  readonly inferCrop: number;
  /** Per-channel mean / std after scaling to [0, 1]. @default [0] / [1] */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Augmentation parameters (spec §3). */
export interface AugmentConfig {
  /** RandomRotation ±degrees, applied before the resize. @default 3 */
  readonly rotationDeg: number;
  /** ColorJitter factors. @default 0.1 / 0.1 / 0.1 / 0.05 */
  readonly brightness: number;
  readonly contrast: number;
  readonly saturation: number;
  readonly hue: number;
  /** RandomGrayscale probability (RGB models). @default 0 */
  readonly grayscaleProb: number;
  /** PCA lighting σ (RGB models). @default 0 */
  readonly pcaStd: number;
  /** RandomResizedCrop area scale and aspect ratio ranges. @default [0.85, 0.9] / [0.875, 1.142857] */
  readonly cropScale: readonly [number, number];
  readonly cropRatio: readonly [number, number];
  /** Batch mixing. @default 'mixup' */
  readonly batchMix: BatchMix;
  /** Mixup λ ~ Beta(α, α). @default 0.2 */
  readonly mixupAlpha: number;
  /** ICAP β and per-batch probability. @default 1 / 0.5 */
  readonly icapBeta: number;
  readonly icapProb: number;
  /** RandomErasing probability (0 disables). @default 0.5 */
  readonly erasingProb: number;
  /** Per-sample RandomErasing in the loader (true for ICAP and plain models). @default batchMix !== 'mixup' */
  readonly sampleErasing: boolean;
}

/** Learning-rate schedule after warmup (spec §4.3). */
export type ScheduleConfig =
  | { readonly type: 'multistep'; readonly milestones: readonly number[]; readonly gamma: number }
  | { readonly type: 'cosine'; readonly tMaxEpochs: number; readonly etaMin: number };

/** Optimiser and loop settings. */
export interface TrainConfig {
  /** @default 128 */
  readonly batchSize: number;
  /** @default 2 × batchSize */
  readonly valBatchSize: number;
  /** @default 80 */
  readonly epochs: number;
  /** SGD. @default 0.1 / 0.9 / 1e-4 */
  readonly baseLr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** Per-iteration warmup epochs. @default 5 */
  readonly warmupEpochs: number;
  /** @default multistep 20/40/60/70 ×0.1 */
  readonly schedule: ScheduleConfig;
  /** Classes with more rows are cut to this many per epoch (0 = off). @default 2000 */
  readonly undersampling: number;
  /** Seed of data order, augmentation and drop-connect. @default 0 */
  readonly seed: number;
}

/** A complete model configuration. */
export interface ModelConfig {
  readonly name: string;
  readonly model: ArchitectureConfig;
  readonly input: InputConfig;
  readonly augment: AugmentConfig;
  readonly train: TrainConfig;
}

/** A partial configuration as written in a file. */
export interface ModelConfigFile {
  readonly name?: string;
  readonly model: ArchitectureConfig;
  readonly input?: Partial<InputConfig>;
  readonly augment?: Partial<AugmentConfig>;
  readonly train?: Partial<TrainConfig>;
}

function num(value: unknown, field: string, min: number, max = Number.POSITIVE_INFINITY, integer = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new MlValidationError(
      field,
      `expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function pair(value: unknown, field: string): readonly [number, number] {
  if (!Array.isArray(value) || value.length !== 2) throw new MlValidationError(field, 'expected [min, max]');
  const [a, b] = [num(value[0], `${field}[0]`, 0), num(value[1], `${field}[1]`, 0)];
  if (a > b) throw new MlValidationError(field, `min ${a} exceeds max ${b}`);
  return [a, b];
}

/** Fills defaults and validates a configuration read from a file. */
export function parseModelConfig(raw: unknown, name = 'model'): ModelConfig {
  if (typeof raw !== 'object' || raw === null) throw new MlValidationError('config', 'expected a JSON object');
  const file = raw as ModelConfigFile;
  if (typeof file.model !== 'object' || file.model === null) throw new MlValidationError('config.model', 'is required');
  validateArchitecture(file.model, 'config.model');
  const channels = file.model.inputChannels;
  const i = file.input ?? {};
  const input: InputConfig = {
    trainResize: num(i.trainResize ?? 124, 'config.input.trainResize', 8, 4096, true),
    trainCrop: num(i.trainCrop ?? 112, 'config.input.trainCrop', 8, 4096, true),
    inferResize: num(i.inferResize ?? 120, 'config.input.inferResize', 8, 4096, true),
    inferCrop: num(i.inferCrop ?? 112, 'config.input.inferCrop', 8, 4096, true),
    mean: i.mean ?? new Array<number>(channels).fill(0),
    std: i.std ?? new Array<number>(channels).fill(1),
  };
  if (input.trainCrop > input.trainResize) throw new MlValidationError('config.input.trainCrop', 'exceeds trainResize');
  if (input.inferCrop > input.inferResize) throw new MlValidationError('config.input.inferCrop', 'exceeds inferResize');
  for (const key of ['mean', 'std'] as const) {
    const v = input[key];
    if (!Array.isArray(v) || v.length !== channels) {
      throw new MlValidationError(`config.input.${key}`, `expected ${channels} value(s), one per input channel`);
    }
    v.forEach((x, k) => num(x, `config.input.${key}[${k}]`, key === 'std' ? 1e-6 : -10, 10));
  }
  const a = file.augment ?? {};
  const batchMix = a.batchMix ?? 'mixup';
  if (!(Object.values(BatchMix) as string[]).includes(batchMix)) {
    throw new MlValidationError('config.augment.batchMix', `expected none, mixup or icap, got "${String(batchMix)}"`);
  }
  const augment: AugmentConfig = {
    rotationDeg: num(a.rotationDeg ?? 3, 'config.augment.rotationDeg', 0, 180),
    brightness: num(a.brightness ?? 0.1, 'config.augment.brightness', 0, 1),
    contrast: num(a.contrast ?? 0.1, 'config.augment.contrast', 0, 1),
    saturation: num(a.saturation ?? 0.1, 'config.augment.saturation', 0, 1),
    hue: num(a.hue ?? 0.05, 'config.augment.hue', 0, 0.5),
    grayscaleProb: num(a.grayscaleProb ?? 0, 'config.augment.grayscaleProb', 0, 1),
    pcaStd: num(a.pcaStd ?? 0, 'config.augment.pcaStd', 0, 10),
    cropScale: pair(a.cropScale ?? [0.85, 0.9], 'config.augment.cropScale'),
    cropRatio: pair(a.cropRatio ?? [0.875, 8 / 7], 'config.augment.cropRatio'),
    batchMix,
    mixupAlpha: num(a.mixupAlpha ?? 0.2, 'config.augment.mixupAlpha', 1e-6),
    icapBeta: num(a.icapBeta ?? 1, 'config.augment.icapBeta', 1e-6),
    icapProb: num(a.icapProb ?? 0.5, 'config.augment.icapProb', 0, 1),
    erasingProb: num(a.erasingProb ?? 0.5, 'config.augment.erasingProb', 0, 1),
    sampleErasing: a.sampleErasing ?? batchMix !== 'mixup',
  };
  const t = file.train ?? {};
  const batchSize = num(t.batchSize ?? 128, 'config.train.batchSize', 1, 65536, true);
  const schedule = t.schedule ?? { type: 'multistep', milestones: [20, 40, 60, 70], gamma: 0.1 };
  if (schedule.type === 'multistep') {
    if (!Array.isArray(schedule.milestones))
      throw new MlValidationError('config.train.schedule.milestones', 'expected an array of epochs');
    schedule.milestones.forEach((m, k) => num(m, `config.train.schedule.milestones[${k}]`, 0, 1e6, true));
    num(schedule.gamma, 'config.train.schedule.gamma', 0, 1);
  } else if (schedule.type === 'cosine') {
    num(schedule.tMaxEpochs, 'config.train.schedule.tMaxEpochs', 1e-6);
    num(schedule.etaMin, 'config.train.schedule.etaMin', 0);
  } else {
    throw new MlValidationError('config.train.schedule.type', 'expected multistep or cosine');
  }
  const train: TrainConfig = {
    batchSize,
    valBatchSize: num(t.valBatchSize ?? 2 * batchSize, 'config.train.valBatchSize', 1, 65536, true),
    epochs: num(t.epochs ?? 80, 'config.train.epochs', 1, 100000, true),
    baseLr: num(t.baseLr ?? 0.1, 'config.train.baseLr', 0, 1e12),
    momentum: num(t.momentum ?? 0.9, 'config.train.momentum', 0, 1),
    weightDecay: num(t.weightDecay ?? 1e-4, 'config.train.weightDecay', 0, 1),
    warmupEpochs: num(t.warmupEpochs ?? 5, 'config.train.warmupEpochs', 0, 100000, true),
    schedule,
    undersampling: num(t.undersampling ?? 2000, 'config.train.undersampling', 0, 1e9, true),
    seed: num(t.seed ?? 0, 'config.train.seed', 0, 2 ** 32 - 1, true),
  };
  return deepFreeze({ name: file.name ?? name, model: { ...file.model }, input, augment, train });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Reads and parses a configuration file; the file's base name is the default `name`. */
export async function readModelConfig(path: string): Promise<ModelConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MlValidationError('config', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MlValidationError('config', `${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseModelConfig(raw, basename(path).replace(/\.json$/, ''));
}
