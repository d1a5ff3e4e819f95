/** Configuration of the inference service (one Deployment in the cluster, or embedded). */
import { EngineChoice } from '@kzr/artifacts';
import {
  compileServiceConfig,
  ConfigError,
  type Env,
  readChoice,
  readInt,
  readString,
  type ServiceConfig,
} from '@kzr/platform';

import type { PagePathEndpoints } from './recognize/page-path.js';

/** The inference service's default gRPC port. */
export const defaultInferencePort = 50052;

/** The `KZR_*` variables the service reads besides the platform's (`KZR_TF_BACKEND` is read by `@kzr/ml`'s backend choice). */
export const inferenceEnvNames: readonly string[] = Object.freeze([
  'KZR_INFERENCE_MAX_CROPS',
  'KZR_INFERENCE_MAX_PAGE_PIXELS',
  'KZR_INFERENCE_MAX_DETECTIONS',
  'KZR_INFERENCE_MAX_BATCH',
  'KZR_INFERENCE_MAX_DELAY_MS',
  'KZR_INFERENCE_MAX_QUEUE',
  'KZR_INFERENCE_LOW_CONFIDENCE_PERCENT',
  'KZR_INFERENCE_ENGINE',
  'KZR_INFERENCE_MODEL_SETS',
  'KZR_PREPROCESS_ENDPOINT',
  'KZR_POSTPROCESS_ENDPOINT',
  'KZR_TF_BACKEND',
]);

/** Limits and serving settings every request is checked against. */
export interface InferenceLimits {
  /**
   * Most crops in one ClassifyCrops request or OIP ModelInfer batch (`KZR_INFERENCE_MAX_CROPS`).
   * @default 4096
   */
  readonly maxCropsPerRequest: number;
  /**
   * Largest page in pixels (`KZR_INFERENCE_MAX_PAGE_PIXELS`).
   * @default 60_000_000
   */
  readonly maxPagePixels: number;
  /**
   * Most detections over all sets of one page (`KZR_INFERENCE_MAX_DETECTIONS`).
   * @default 20_000
   */
  readonly maxDetectionsPerPage: number;
  /**
   * Largest dynamic batch per model, in TTA views (`KZR_INFERENCE_MAX_BATCH`).
   * @default 64
   */
  readonly maxBatch: number;
  /**
   * Longest wait for a batch to fill, in ms (`KZR_INFERENCE_MAX_DELAY_MS`).
   * @default 2
   */
  readonly maxDelayMs: number;
  /**
   * Most TTA views waiting in one model's batch queue (`KZR_INFERENCE_MAX_QUEUE`); a request
   * arriving while the queue holds this many is refused with RESOURCE_EXHAUSTED.
   * @default 4096 (64 full batches of the default size)
   */
  readonly maxQueue: number;
  /**
   * Probability under which a character is flagged low-confidence when the request gives none
   * (`KZR_INFERENCE_LOW_CONFIDENCE_PERCENT`, in percent).
   * @default 0.5
   */
  readonly lowConfidenceThreshold: number;
  /**
   * Engine override for every set (`KZR_INFERENCE_ENGINE`: auto, onnx, tfjs); unset follows each manifest.
   * @default undefined
   */
  readonly engine: EngineChoice | undefined;
}

/**
 * The compiled config of the service; its `adapters` give the Bus (followed for
 * `kzr.models.published`) and the Store (model sets).
 */
export interface InferenceConfig extends ServiceConfig, InferenceLimits {
  /**
   * Model sets to serve at start, comma-separated (`KZR_INFERENCE_MODEL_SETS`); empty serves
   * the newest published set.
   * @default []
   */
  readonly modelSets: readonly string[];
  /**
   * Where RecognizePage finds the preprocess and postprocess services
   * (`KZR_PREPROCESS_ENDPOINT`, `KZR_POSTPROCESS_ENDPOINT`, `host:port`). `kzr start` points
   * them at its own services.
   * @default the local ones on their standalone ports, 127.0.0.1:50051 and 127.0.0.1:50053
   */
  readonly pagePath: PagePathEndpoints;
}

/** The page path's endpoints on one machine: each service on its standalone port. */
export const localPagePath: PagePathEndpoints = Object.freeze({
  preprocess: '127.0.0.1:50051',
  postprocess: '127.0.0.1:50053',
});

function readEndpoint(env: Env, name: string, fallback: string): string {
  const value = readString(env, name) ?? fallback;
  if (!/^[^\s/]+:\d{1,5}$/.test(value)) throw new ConfigError(name, value, 'host:port');
  return value;
}

/** Default limits (the embedded mode and tests start from these). */
export const defaultInferenceLimits: InferenceLimits = Object.freeze({
  maxCropsPerRequest: 4096,
  maxPagePixels: 60_000_000,
  maxDetectionsPerPage: 20_000,
  maxBatch: 64,
  maxDelayMs: 2,
  maxQueue: 4096,
  lowConfidenceThreshold: 0.5,
  engine: undefined,
});

/** Reads the limits from the environment. */
export function compileInferenceLimits(env: Env): InferenceLimits {
  const d = defaultInferenceLimits;
  const percent = readInt(env, 'KZR_INFERENCE_LOW_CONFIDENCE_PERCENT', 0, 100);
  return Object.freeze({
    maxCropsPerRequest: readInt(env, 'KZR_INFERENCE_MAX_CROPS', 1, 1_000_000) ?? d.maxCropsPerRequest,
    maxPagePixels: readInt(env, 'KZR_INFERENCE_MAX_PAGE_PIXELS', 1, 1_000_000_000) ?? d.maxPagePixels,
    maxDetectionsPerPage: readInt(env, 'KZR_INFERENCE_MAX_DETECTIONS', 1, 10_000_000) ?? d.maxDetectionsPerPage,
    maxBatch: readInt(env, 'KZR_INFERENCE_MAX_BATCH', 1, 65_536) ?? d.maxBatch,
    maxDelayMs: readInt(env, 'KZR_INFERENCE_MAX_DELAY_MS', 0, 10_000) ?? d.maxDelayMs,
    maxQueue: readInt(env, 'KZR_INFERENCE_MAX_QUEUE', 1, 10_000_000) ?? d.maxQueue,
    lowConfidenceThreshold: percent === undefined ? d.lowConfidenceThreshold : percent / 100,
    engine: readChoice(env, 'KZR_INFERENCE_ENGINE', Object.values(EngineChoice)),
  });
}

/** Compiles the config once at start; throws a ConfigError naming a bad variable. */
export function compileInferenceConfig(env: Env): InferenceConfig {
  const sets = readString(env, 'KZR_INFERENCE_MODEL_SETS');
  return Object.freeze({
    ...compileServiceConfig(env, defaultInferencePort),
    ...compileInferenceLimits(env),
    pagePath: Object.freeze({
      preprocess: readEndpoint(env, 'KZR_PREPROCESS_ENDPOINT', localPagePath.preprocess),
      postprocess: readEndpoint(env, 'KZR_POSTPROCESS_ENDPOINT', localPagePath.postprocess),
    }),
    modelSets: Object.freeze(
      sets
        ? sets
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : [],
    ),
  });
}
