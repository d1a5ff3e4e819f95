/**
 * Configuration of the embedded mode: data on this machine, adapters shared by the commands that
 * store or publish. The services' own configs are in services-config.ts, which only `kzr start`
 * loads (it imports the services, TensorFlow.js and ONNX Runtime among their dependencies).
 */
import {
  type AdapterConfig,
  compileAdapterConfig,
  compileServerConfig,
  defaultDataDir,
  type Env,
  type ServerConfig,
} from '@kzr/platform';

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

/** Compiles the embedded config; throws a ConfigError naming the first bad variable. */
export function compileEmbeddedConfig(env: Env): EmbeddedConfig {
  const dataDir = defaultDataDir(env);
  return Object.freeze({
    ...compileServerConfig(env),
    dataDir,
    adapters: compileAdapterConfig(env, dataDir),
  });
}
