/**
 * The config every service process compiles first: the server kit's settings, its gRPC port and
 * the adapter choices. Compiling the adapters here, before anything opens, is what makes a bad
 * `KZR_STORE` or `KZR_NATS_URL` exit 2 like any other invalid variable.
 */
import { type AdapterConfig, compileAdapterConfig, defaultDataDir } from '../adapters.js';
import { compileServerConfig, readPort, type ServerConfig } from '../config.js';
import { type Env, readInt } from '../env.js';

/** Settings of one service process. */
export interface ServiceConfig extends ServerConfig {
  /** gRPC port (`KZR_GRPC_PORT`); 0 picks a free one. The default is the service's own. */
  readonly grpcPort: number;
  /**
   * Port of the plaintext health-only gRPC server (`KZR_HEALTH_PORT`), which serves nothing but
   * `grpc.health.v1` for Kubernetes' gRPC probes (liveness on the `liveness` name, readiness on
   * the overall health); 0 picks a free one.
   * @default undefined (no health-only server)
   */
  readonly healthPort: number | undefined;
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
    healthPort: readInt(env, 'KZR_HEALTH_PORT', 0, 65_535),
    adapters: compileAdapterConfig(env, defaultDataDir(env)),
  });
}
