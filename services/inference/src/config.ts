/** Configuration of the standalone inference service (one Deployment in the cluster). */
import { compileServiceConfig, type Env, type ServiceConfig } from '@kzr/platform';

/** The inference service's default gRPC port. */
export const defaultInferencePort = 50052;

/** Compiles the config once at start; throws a ConfigError naming a bad variable. */
export function compileInferenceConfig(env: Env): ServiceConfig {
  return compileServiceConfig(env, defaultInferencePort);
}
