/** Configuration of the preprocess service (one Deployment in the cluster, or embedded). */
import { compileServiceConfig, type Env, readBytes, readInt, type ServiceConfig } from '@kzr/platform';

/** The preprocess service's default gRPC port. */
export const defaultPreprocessPort = 50051;

/** The `KZR_*` variables the service reads besides the platform's. */
export const preprocessEnvNames: readonly string[] = Object.freeze([
  'KZR_PREPROCESS_MAX_PAGE_PIXELS',
  'KZR_PREPROCESS_MAX_BOXES',
  'KZR_PREPROCESS_MAX_CROP_SIZE',
  'KZR_PREPROCESS_MAX_CROP_PIXELS',
  'KZR_PREPROCESS_MAX_CROPS_PER_MESSAGE',
  'KZR_PREPROCESS_THREADS',
]);

/** Limits every request is checked against. */
export interface PreprocessLimits {
  /**
   * Largest page, in pixels (`KZR_PREPROCESS_MAX_PAGE_PIXELS`).
   * @default 60_000_000
   */
  readonly maxPagePixels: number;
  /**
   * Most boxes in one CropCharacters request (`KZR_PREPROCESS_MAX_BOXES`).
   * @default 20_000
   */
  readonly maxBoxesPerRequest: number;
  /**
   * Largest square side a CropCharacters request may ask for (`KZR_PREPROCESS_MAX_CROP_SIZE`):
   * upsizing costs about 50 ns per output pixel, so a 4096 crop is almost a second of work.
   * @default 1024
   */
  readonly maxCropSize: number;
  /**
   * Budget of one CropCharacters request in pixels (`KZR_PREPROCESS_MAX_CROP_PIXELS`): over
   * every box, the padded box's area (read) plus the crop's area (written). Checked before the
   * first crop is cut. The default fits 2,000 characters of 80x80 resized to 190x190, and is
   * about 6 s of work on one core at worst (upsizing).
   * @default 128_000_000
   */
  readonly maxCropPixelsPerRequest: number;
  /**
   * Most crops in one CropCharacters response message (`KZR_PREPROCESS_MAX_CROPS_PER_MESSAGE`);
   * a request may ask for fewer.
   * @default 256
   */
  readonly maxCropsPerMessage: number;
  /**
   * Largest gRPC message in bytes (`KZR_GRPC_MAX_MESSAGE_BYTES`); response messages are cut so
   * they stay below it.
   * @default 64 MiB
   */
  readonly maxMessageBytes: number;
  /**
   * Worker threads for Ben's filter and the denoising (`KZR_PREPROCESS_THREADS`).
   * @default os.availableParallelism()
   */
  readonly threads: number | undefined;
}

/** The compiled config of the standalone service. */
export interface PreprocessConfig extends ServiceConfig, PreprocessLimits {}

/** Reads the limits from the environment (the embedded mode uses these too). */
export function compilePreprocessLimits(env: Env, maxMessageBytes: number): PreprocessLimits {
  return Object.freeze({
    maxPagePixels: readInt(env, 'KZR_PREPROCESS_MAX_PAGE_PIXELS', 1, 1_000_000_000) ?? 60_000_000,
    maxBoxesPerRequest: readInt(env, 'KZR_PREPROCESS_MAX_BOXES', 1, 10_000_000) ?? 20_000,
    maxCropSize: readInt(env, 'KZR_PREPROCESS_MAX_CROP_SIZE', 1, 4096) ?? 1024,
    maxCropPixelsPerRequest: readInt(env, 'KZR_PREPROCESS_MAX_CROP_PIXELS', 1, 1e12) ?? 128_000_000,
    maxCropsPerMessage: readInt(env, 'KZR_PREPROCESS_MAX_CROPS_PER_MESSAGE', 1, 1_000_000) ?? 256,
    maxMessageBytes: readBytes(env, 'KZR_GRPC_MAX_MESSAGE_BYTES', 1024, 2 * 1024 ** 3 - 1) ?? maxMessageBytes,
    threads: readInt(env, 'KZR_PREPROCESS_THREADS', 1, 1024),
  });
}

/** Compiles the config once at start; throws a ConfigError naming a bad variable. */
export function compilePreprocessConfig(env: Env): PreprocessConfig {
  const service = compileServiceConfig(env, defaultPreprocessPort);
  return Object.freeze({ ...service, ...compilePreprocessLimits(env, service.maxMessageBytes) });
}
