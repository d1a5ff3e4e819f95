/**
 * The `main` of a standalone service process: compile config, serve, drain on SIGTERM/SIGINT,
 * and set the exit code (0 after a clean drain, 1 after a failure, 2 for invalid config).
 */
import { type ServiceConfig } from '../config.js';
import type { Env } from '../env.js';
import { isConfigError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { shutdownTelemetry } from '../telemetry/global.js';
import { serve } from './serve.js';
import type { GrpcServer, GrpcServiceRegistration } from './server.js';

export interface ServiceMainOptions {
  /** Short service name for logs, such as `preprocess`. */
  readonly name: string;
  /** Compiles the service's config from the environment. */
  readonly compileConfig: (env: Env) => ServiceConfig;
  /** Builds the service registrations. */
  readonly createServices: (logger: Logger) => readonly GrpcServiceRegistration[];
  /** Reflection sources. */
  readonly reflectionProtoFiles: readonly string[];
  readonly protoIncludeDirs: readonly string[];
  /** Called once the server listens, for example to report health names of its own. */
  readonly onStarted?: (server: GrpcServer) => void;
}

/** Runs a standalone service until a signal drains it. */
export async function runServiceMain(options: ServiceMainOptions): Promise<void> {
  try {
    const config = options.compileConfig(process.env);
    const logger = createLogger({ level: config.logLevel, fields: { service: options.name } });
    const { lifecycle, servers } = await serve({
      config,
      servers: [{ name: options.name, port: config.grpcPort, services: options.createServices(logger) }],
      reflectionProtoFiles: options.reflectionProtoFiles,
      protoIncludeDirs: options.protoIncludeDirs,
      logger,
    });
    const server = servers.get(options.name);
    if (server) options.onStarted?.(server);
    await lifecycle.untilSignal();
    process.exitCode = lifecycle.state === 'stopped' ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${isConfigError(err) ? err.message : String(err)}\n`);
    process.exitCode = isConfigError(err) ? 2 : 1;
  } finally {
    // Spans of the drain itself are flushed too; telemetry failures never change the exit code.
    await shutdownTelemetry();
  }
}
