/**
 * Runs one or more gRPC servers under a {@link Lifecycle}: used by each service's `main` (one
 * server) and by the embedded mode (one server per service, all in one process).
 */
import type { ServerConfig } from '../config.js';
import { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { GrpcServer, type GrpcServiceRegistration } from './server.js';

/** One server to start: a name for reports, its port, and what it serves. */
export interface ServerPlan {
  /** Short name, such as `preprocess`. */
  readonly name: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  readonly services: readonly GrpcServiceRegistration[];
}

export interface ServeOptions {
  readonly config: ServerConfig;
  readonly servers: readonly ServerPlan[];
  /** Reflection sources (see {@link GrpcServerOptions}). */
  readonly reflectionProtoFiles: readonly string[];
  readonly protoIncludeDirs: readonly string[];
  readonly logger: Logger;
}

/** Started servers, keyed by plan name, and the lifecycle that drains them. */
export interface Serving {
  readonly lifecycle: Lifecycle;
  readonly servers: ReadonlyMap<string, GrpcServer>;
}

/** Starts every planned server; if one fails to bind, the ones already started are drained. */
export async function serve(options: ServeOptions): Promise<Serving> {
  const lifecycle = new Lifecycle({ graceMs: options.config.shutdownGraceMs, logger: options.logger });
  const servers = new Map<string, GrpcServer>();
  try {
    for (const plan of options.servers) {
      const server = await GrpcServer.start({
        host: options.config.grpcHost,
        port: plan.port,
        maxMessageBytes: options.config.maxMessageBytes,
        services: plan.services,
        reflectionProtoFiles: options.reflectionProtoFiles,
        protoIncludeDirs: options.protoIncludeDirs,
        logger: options.logger.child({ server: plan.name }),
      });
      servers.set(plan.name, server);
      lifecycle.onDrain(`grpc:${plan.name}`, (graceMs) => server.shutdown(graceMs));
    }
  } catch (err) {
    await lifecycle.drain('start-up failed');
    throw err;
  }
  lifecycle.running();
  return { lifecycle, servers };
}
