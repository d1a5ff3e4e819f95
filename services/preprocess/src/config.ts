/** Configuration of the standalone preprocess service (one Deployment in the cluster). */
import { compileServiceConfig, type Env, type ServiceConfig } from '@kzr/platform';

/** The preprocess service's default gRPC port. */
export const defaultPreprocessPort = 50051;

/** Compiles the config once at start; throws a ConfigError naming a bad variable. */
export function compilePreprocessConfig(env: Env): ServiceConfig {
  return compileServiceConfig(env, defaultPreprocessPort);
}
