/**
 * The shape every service shares: `createX(options): Promise<XRuntime>`, where the runtime is a
 * started gRPC server plus the parts the service set up, and disposing it drains all of them in
 * the order of {@link DrainPhase}. {@link startService} is the one place that builds it; the
 * standalone mains ({@link runServiceMain}), the CLI's embedded mode and tests call the same
 * factories.
 */
import { protoRoot } from '@kzr/api/proto-root';

import type { Bus } from '../bus/types.js';
import { GrpcServer, type GrpcServiceRegistration } from '../grpc/server.js';
import { DrainPhase, Lifecycle, type LifecycleState } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import type { ServiceConfig } from './config.js';

/** What a service factory gets: its compiled config and the opened adapters it uses. */
export interface ServiceOptions<C extends ServiceConfig = ServiceConfig> {
  readonly config: C;
  /** Where the service consumes events (workers, hot swaps) and publishes its own. */
  readonly bus: Bus;
  /** Where the service reads and writes artifacts. */
  readonly store: Store;
  readonly logger: Logger;
}

/** A started service. `close` (or `await using`) drains it; the adapters stay open for their owner. */
export interface ServiceRuntime extends AsyncDisposable {
  /** Short service name, such as `preprocess`. */
  readonly name: string;
  /** The gRPC server; its `endpoint` is the `host:port` clients connect to. */
  readonly server: GrpcServer;
  /** `starting`, `running`, `draining`, then `stopped` (or `failed` when a drain step threw). */
  readonly state: LifecycleState;
  /** Drains: health NOT_SERVING, Bus intake stopped, calls finished, resources released. Idempotent. */
  close(reason?: string): Promise<void>;
}

/** What a service sets up before its server starts. */
export interface ServiceParts<T extends object> {
  /** The gRPC services the server serves (and reflection lists). */
  readonly services: readonly GrpcServiceRegistration[];
  /** What the runtime exposes besides {@link ServiceRuntime} (a registry, metrics, ...). */
  readonly expose: T;
  /** Called once the server listens, for health of its own (model sets, readiness). */
  readonly onListening?: (server: GrpcServer) => void;
}

/** Options of {@link startService}. */
export interface StartServiceOptions<T extends object> {
  /** Short service name for logs and reports, such as `preprocess`. */
  readonly name: string;
  readonly config: ServiceConfig;
  readonly logger: Logger;
  /** `.proto` files of the served services, relative to `@kzr/api`'s proto root, for reflection. */
  readonly protoFiles: readonly string[];
  /** Whether the server starts ready (see {@link GrpcServer.setReady}). @default true */
  readonly ready?: boolean;
  /**
   * Builds the service's parts. Everything that must stop on a drain registers a step with
   * `lifecycle` as soon as it is started, so a failure later in start-up (the port is taken)
   * stops it too.
   */
  readonly setUp: (lifecycle: Lifecycle) => Promise<ServiceParts<T>>;
}

/**
 * Sets a service up, then starts its gRPC server. If any of it fails, what was started is
 * drained before the error is rethrown.
 */
export async function startService<T extends object>(options: StartServiceOptions<T>): Promise<ServiceRuntime & T> {
  const { config, logger } = options;
  const lifecycle = new Lifecycle({ graceMs: config.shutdownGraceMs, logger });
  try {
    const parts = await options.setUp(lifecycle);
    const server = await GrpcServer.start({
      host: config.grpcHost,
      port: config.grpcPort,
      maxMessageBytes: config.maxMessageBytes,
      ...(config.healthPort !== undefined ? { healthPort: config.healthPort } : {}),
      services: parts.services,
      reflectionProtoFiles: options.protoFiles,
      protoIncludeDirs: [protoRoot],
      tls: config.grpcTls,
      authTokensFile: config.authTokensFile,
      ...(options.ready !== undefined ? { ready: options.ready } : {}),
      logger,
    });
    lifecycle.onDrain(DrainPhase.Health, 'grpc-health', () => server.setStatus('NOT_SERVING'));
    lifecycle.onDrain(DrainPhase.Calls, 'grpc-server', (graceMs) => server.shutdown(graceMs));
    parts.onListening?.(server);
    lifecycle.running();
    const close = (reason = 'closed'): Promise<void> => lifecycle.drain(reason);
    return {
      ...parts.expose,
      name: options.name,
      server,
      get state() {
        return lifecycle.state;
      },
      close,
      [Symbol.asyncDispose]: () => close('disposed'),
    };
  } catch (err) {
    await lifecycle.drain('start-up failed');
    throw err;
  }
}
