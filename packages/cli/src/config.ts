/** Configuration of the embedded mode: all services in this process, data on this machine. */
import { compileInferenceConfig, defaultInferencePort, type InferenceConfig } from '@kzr/inference';
import {
  type AdapterConfig,
  compileAdapterConfig,
  compileServerConfig,
  defaultDataDir,
  type Env,
  readPort,
  type ServerConfig,
} from '@kzr/platform';
import { compilePostprocessConfig, defaultPostprocessPort, type PostprocessConfig } from '@kzr/postprocess';
import { compilePreprocessConfig, defaultPreprocessPort, type PreprocessConfig } from '@kzr/preprocess';

export interface EmbeddedConfig extends ServerConfig {
  /**
   * Directory of the filesystem Store and local job state (`KZR_DATA_DIR`).
   * @default `$XDG_DATA_HOME/kzr`, else `~/.local/share/kzr`
   */
  readonly dataDir: string;
  /**
   * The adapters (`KZR_BUS`, `KZR_STORE`, `KZR_JOBS` and theirs), opened once and shared by the services.
   * @default the in-process Bus, the filesystem Store under `<dataDir>/store`, local jobs (logs in `<dataDir>/jobs`)
   */
  readonly adapters: AdapterConfig;
}

/**
 * The config of each embedded service (`kzr start`), compiled as its standalone main compiles
 * it, except the gRPC port: `KZR_PREPROCESS_PORT`, `KZR_INFERENCE_PORT`, `KZR_POSTPROCESS_PORT`
 * (0 picks a free port; by default each service's standalone port, 50051, 50052, 50053).
 */
export interface EmbeddedServicesConfig {
  readonly preprocess: PreprocessConfig;
  readonly inference: InferenceConfig;
  readonly postprocess: PostprocessConfig;
}

/** Compiles the embedded config; throws a ConfigError naming the first bad variable. */
export function compileEmbeddedConfig(env: Env): EmbeddedConfig {
  const dataDir = defaultDataDir(env);
  return Object.freeze({
    ...compileServerConfig(env),
    dataDir,
    adapters: compileAdapterConfig(env, dataDir),
  });
}

/** Compiles the {@link EmbeddedServicesConfig}; throws a ConfigError naming the first bad variable. */
export function compileEmbeddedServicesConfig(env: Env): EmbeddedServicesConfig {
  const port = (name: string, fallback: number): { grpcPort: number } => ({ grpcPort: readPort(env, name, fallback) });
  return Object.freeze({
    preprocess: Object.freeze({
      ...compilePreprocessConfig(env),
      ...port('KZR_PREPROCESS_PORT', defaultPreprocessPort),
    }),
    inference: Object.freeze({ ...compileInferenceConfig(env), ...port('KZR_INFERENCE_PORT', defaultInferencePort) }),
    postprocess: Object.freeze({
      ...compilePostprocessConfig(env),
      ...port('KZR_POSTPROCESS_PORT', defaultPostprocessPort),
    }),
  });
}
