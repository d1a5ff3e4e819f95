/** Configuration of the standalone postprocess service (one Deployment in the cluster). */
import { compileServiceConfig, type Env, readInt, type ServiceConfig } from '@kzr/platform';

import { defaultMaxCharactersPerPage } from './convert.js';
import { defaultFilterCacheSize } from './service.js';

/** The postprocess service's default gRPC port. */
export const defaultPostprocessPort = 50053;

/** The `KZR_*` variables the service reads besides the platform's. */
export const postprocessEnvNames: readonly string[] = Object.freeze([
  'KZR_POSTPROCESS_FILTER_CACHE',
  'KZR_POSTPROCESS_MAX_CHARACTERS',
]);

/** The compiled postprocess config. */
export interface PostprocessConfig extends ServiceConfig {
  /**
   * Filter versions kept loaded, least recently used evicted (`KZR_POSTPROCESS_FILTER_CACHE`).
   * Requests may name any stored version and each holds its fold boosters in memory.
   * @default 4
   */
  readonly filterCacheSize: number;
  /**
   * Most characters one page (one detection set of it) of a request may hold
   * (`KZR_POSTPROCESS_MAX_CHARACTERS`); more is RESOURCE_EXHAUSTED before any work.
   * @default 50_000
   */
  readonly maxCharactersPerPage: number;
}

/** Compiles the config once at start; throws a ConfigError naming a bad variable. */
export function compilePostprocessConfig(env: Env): PostprocessConfig {
  return Object.freeze({
    ...compileServiceConfig(env, defaultPostprocessPort),
    filterCacheSize: readInt(env, 'KZR_POSTPROCESS_FILTER_CACHE', 1, 1024) ?? defaultFilterCacheSize,
    maxCharactersPerPage: readInt(env, 'KZR_POSTPROCESS_MAX_CHARACTERS', 1, 10_000_000) ?? defaultMaxCharactersPerPage,
  });
}
