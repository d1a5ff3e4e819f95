/**
 * The one `main` of a standalone service process: compile the whole config (adapter variables
 * included) before anything opens, name unknown `KZR_*` variables in one warning, open the
 * adapters, start the service through its factory, drain on SIGTERM/SIGINT, close the adapters
 * and flush telemetry. Exit code: 0 after a clean drain, 1 after a failure, 2 for invalid config
 * (the message names the variable).
 */
import { exitCodeOf, failureText } from '@kzr/core';

import { openAdapters } from '../adapters.js';
import type { Env } from '../env.js';
import type { JobRunner } from '../jobs/types.js';
import { unknownEnvNames } from '../known-env.js';
import { drainOnSignal } from '../lifecycle.js';
import { createLogger } from '../logger.js';
import { shutdownTelemetry } from '../telemetry/global.js';
import type { ServiceConfig } from './config.js';
import type { ServiceOptions, ServiceRuntime } from './runtime.js';

/** Options of {@link runServiceMain}. */
export interface ServiceMainOptions<C extends ServiceConfig> {
  /** Short service name for logs and the Bus source (`kzr-<name>`), such as `preprocess`. */
  readonly name: string;
  /**
   * The `KZR_*` variables the service reads besides the platform's (`platformEnvNames`);
   * any other `KZR_*` variable set is named in one warning at start.
   * @default []
   */
  readonly envNames?: readonly string[];
  /** Compiles the service's config; throws a ConfigError naming a bad variable. */
  readonly compileConfig: (env: Env) => C;
  /** The service's factory (`createPreprocess`, ...); the JobRunner is for those that run Jobs (the trainer). */
  readonly create: (options: ServiceOptions<C> & { readonly jobs: JobRunner }) => Promise<ServiceRuntime>;
}

/** Runs a standalone service until a signal drains it, and sets `process.exitCode`. */
export async function runServiceMain<C extends ServiceConfig>(options: ServiceMainOptions<C>): Promise<void> {
  try {
    const config = options.compileConfig(process.env);
    const logger = createLogger({ level: config.logLevel, fields: { service: options.name } });
    const unknown = unknownEnvNames(process.env, options.envNames ?? []);
    if (unknown.length > 0) logger.warn('unknown KZR_ variables are ignored', { names: unknown });
    // Disposed in reverse: the service drains first, then its adapters close.
    // A service (re)started while nats-server restarts waits for it, as it waits for the Store.
    await using adapters = await openAdapters(config.adapters, {
      logger,
      source: `kzr-${options.name}`,
      connectTimeoutMs: 30_000,
    });
    await using runtime = await options.create({
      config,
      bus: adapters.bus,
      store: adapters.store,
      jobs: adapters.jobs,
      logger,
    });
    logger.info('service started', { endpoint: runtime.server.endpoint, adapters: adapters.describe });
    await drainOnSignal((signal) => runtime.close(signal), logger);
    process.exitCode = runtime.state === 'stopped' ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${failureText(err)}\n`);
    process.exitCode = exitCodeOf(err);
  } finally {
    // Spans of the drain itself are flushed too; telemetry failures never change the exit code.
    await shutdownTelemetry();
  }
}
