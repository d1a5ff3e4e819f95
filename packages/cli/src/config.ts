/** Configuration of the embedded mode: all services in this process, data on this machine. */
import { defaultInferencePort } from '@kzr/inference';
import {
  type AdapterConfig,
  compileAdapterConfig,
  compileServerConfig,
  defaultDataDir,
  type Env,
  readPort,
  type ServerConfig,
} from '@kzr/platform';
import { defaultPostprocessPort } from '@kzr/postprocess';
import { defaultPreprocessPort } from '@kzr/preprocess';

export interface EmbeddedConfig extends ServerConfig {
  /**
   * Directory of the filesystem Store and local job state (`KZR_DATA_DIR`).
   * @default `$XDG_DATA_HOME/kzr`, else `~/.local/share/kzr`
   */
  readonly dataDir: string;
  /**
   * gRPC ports of the embedded services (`KZR_PREPROCESS_PORT`, `KZR_INFERENCE_PORT`,
   * `KZR_POSTPROCESS_PORT`); 0 picks a free port.
   * @default 50051, 50052, 50053 (each service's standalone default)
   */
  readonly ports: Readonly<{ preprocess: number; inference: number; postprocess: number }>;
  /**
   * The adapters (`KZR_BUS`, `KZR_STORE`, `KZR_JOBS` and theirs).
   * @default the in-process Bus, the filesystem Store under `<dataDir>/store`, local jobs (logs in `<dataDir>/jobs`)
   */
  readonly adapters: AdapterConfig;
}

/** Compiles the embedded config; throws a ConfigError naming the first bad variable. */
export function compileEmbeddedConfig(env: Env): EmbeddedConfig {
  const dataDir = defaultDataDir(env);
  return Object.freeze({
    ...compileServerConfig(env),
    dataDir,
    adapters: compileAdapterConfig(env, dataDir),
    ports: Object.freeze({
      preprocess: readPort(env, 'KZR_PREPROCESS_PORT', defaultPreprocessPort),
      inference: readPort(env, 'KZR_INFERENCE_PORT', defaultInferencePort),
      postprocess: readPort(env, 'KZR_POSTPROCESS_PORT', defaultPostprocessPort),
    }),
  });
}
