/** Configuration of the standalone postprocess service (one Deployment in the cluster). */
import { compileServiceConfig, type Env, type ServiceConfig } from '@kzr/platform';

/** The postprocess service's default gRPC port. */
export const defaultPostprocessPort = 50053;

/** Compiles the config once at start; throws a ConfigError naming a bad variable. */
export function compilePostprocessConfig(env: Env): ServiceConfig {
  return compileServiceConfig(env, defaultPostprocessPort);
}
