/**
 * The config every service process compiles first: the server kit's settings, its gRPC port and
 * the adapter choices. Compiling the adapters here, before anything opens, is what makes a bad
 * `KZR_STORE` or `KZR_NATS_URL` exit 2 like any other invalid variable.
 */
import { type AdapterConfig, compileAdapterConfig, defaultDataDir } from '../adapters.js';
import { compileServerConfig, readPort, type ServerConfig } from '../config.js';
import type { Env } from '../env.js';

/** Settings of one service process. */
export interface ServiceConfig extends ServerConfig {
  /** gRPC port (`KZR_GRPC_PORT`); 0 picks a free one. The default is the service's own. */
  readonly grpcPort: number;
  /**
   * The Bus, Store and JobRunner (`KZR_BUS`, `KZR_STORE`, `KZR_JOBS` and theirs), opened by the
   * bootstrap after the config compiled. The data directory is platform's `defaultDataDir`
   * (`KZR_DATA_DIR`, else `$XDG_DATA_HOME/kzr`), the same Store the CLI uses.
   * @default the in-process Bus, the filesystem Store under the data directory, local jobs
   */
  readonly adapters: AdapterConfig;
}

/** Compiles a service's config with its default port; throws a ConfigError naming the first bad variable. */
export function compileServiceConfig(env: Env, defaultPort: number): ServiceConfig {
  return Object.freeze({
    ...compileServerConfig(env),
    grpcPort: readPort(env, 'KZR_GRPC_PORT', defaultPort),
    adapters: compileAdapterConfig(env, defaultDataDir(env)),
  });
}
