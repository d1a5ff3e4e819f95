/**
 * The gRPC server kit: one server with kzr's services, `grpc.health.v1`, server reflection of
 * exactly the services this server serves, message size limits, and a graceful drain (health
 * NOT_SERVING, tryShutdown, grace deadline, then force).
 *
 * A health-only port (`healthPort`) serves `grpc.health.v1` alone, in plaintext, on a second
 * server sharing the same statuses: Kubernetes' native gRPC probes reach it whatever the main
 * port requires, and nothing but health is exposed there.
 *
 * Health names: `''` (the whole server: SERVING while it serves and is ready, see
 * {@link GrpcServer.setReady}), each service's full name, {@link livenessHealthName}, and the
 * names a service adds with {@link GrpcServer.setHealth}.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';

import type { Logger } from '../logger.js';
import { AccessControl } from './auth.js';
import { tolerantDefinition } from './handlers.js';
import { defaultCertificateRefreshMs, type GrpcServerTls, serverCredentials } from './tls.js';

/** One service to serve. */
export interface GrpcServiceRegistration {
  /** Fully qualified name, for example `kzr.v1.Preprocess`; health reports it by this name. */
  readonly name: string;
  /** The grpc-js service definition (ts-proto's `XxxService`). */
  readonly definition: grpc.ServiceDefinition;
  /** Handlers, usually from {@link implement}. */
  readonly implementation: grpc.UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** Interface to bind. */
  readonly host: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Largest message received or sent, in bytes. */
  readonly maxMessageBytes: number;
  /** The services. */
  readonly services: readonly GrpcServiceRegistration[];
  /** `.proto` files describing the services, for reflection (paths relative to `protoIncludeDirs`). */
  readonly reflectionProtoFiles: readonly string[];
  /** Include directories for `reflectionProtoFiles`. */
  readonly protoIncludeDirs: readonly string[];
  /**
   * Port of a second, plaintext server on `host` that serves only `grpc.health.v1` with the same
   * statuses (for probes); 0 picks a free one. Unset: no such server.
   */
  readonly healthPort?: number;
  /** Whether the server starts ready (see {@link GrpcServer.setReady}). @default true */
  readonly ready?: boolean;
  /** TLS, and mTLS with a client CA (see `tls.ts`). @default plaintext */
  readonly tls?: GrpcServerTls | undefined;
  /** The access file mapping tokens and subjects to roles (see `auth.ts`). @default none */
  readonly authTokensFile?: string | undefined;
  /** How often the certificate and access files are read again. @default 5000 */
  readonly securityRefreshMs?: number;
  readonly logger: Logger;
}

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/**
 * The health name a liveness probe checks: SERVING for as long as the process answers at all,
 * also while it is not ready or drains (restarting a draining process would cut its calls).
 */
export const livenessHealthName = 'liveness';

/** The service name of `grpc.health.v1`, which every server serves and reflection lists. */
const healthServiceName = 'grpc.health.v1.Health';

/** A started gRPC server. `shutdown` is idempotent; `await using` drains it. */
export class GrpcServer implements AsyncDisposable {
  readonly #server: grpc.Server;
  readonly #healthServer: grpc.Server | undefined;
  readonly #health: HealthImplementation;
  readonly #names: readonly string[];
  /** Health names reported besides the services (for example one per model set). */
  readonly #extraHealth = new Map<string, ServingStatus>();
  readonly #logger: Logger;
  readonly #access: AccessControl;
  #status: ServingStatus = 'NOT_SERVING';
  #ready = true;
  #stopping: Promise<void> | undefined;
  /** The bound port. */
  readonly port: number;
  /** `host:port` clients connect to. */
  readonly endpoint: string;
  /** How callers are let in, for start-up reports: `tls` off, on or mtls, and how `auth` checks them. */
  readonly security: { readonly tls: 'off' | 'on' | 'mtls'; readonly auth: string };
  /** The bound port of the health-only server, when one was asked for. */
  readonly healthPort: number | undefined;

  private constructor(
    server: grpc.Server,
    healthServer: { server: grpc.Server; port: number } | undefined,
    health: HealthImplementation,
    names: readonly string[],
    host: string,
    port: number,
    access: AccessControl,
    tls: GrpcServerTls | undefined,
    logger: Logger,
  ) {
    this.#server = server;
    this.#access = access;
    this.#healthServer = healthServer?.server;
    this.healthPort = healthServer?.port;
    this.#health = health;
    this.#names = names;
    this.#logger = logger;
    this.port = port;
    this.endpoint = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.security = Object.freeze({
      tls: tls === undefined ? 'off' : tls.clientCaFile === undefined ? 'on' : 'mtls',
      auth: access.describe,
    });
  }

  /**
   * Binds, registers health and reflection, and reports SERVING. With TLS the port serves TLS
   * only; with an access file or mTLS every call, health and reflection included, needs a role
   * (see `roles.ts`).
   */
  static async start(options: GrpcServerOptions): Promise<GrpcServer> {
    const refreshMs = options.securityRefreshMs ?? defaultCertificateRefreshMs;
    const access = new AccessControl(
      { tokensFile: options.authTokensFile, clientCertificates: options.tls?.clientCaFile !== undefined },
      options.logger,
    );
    const server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': options.maxMessageBytes,
      interceptors: access.enabled ? [access.interceptor()] : [],
    });
    const names = options.services.map((s) => s.name);
    const health = new HealthImplementation({
      ...Object.fromEntries(['', ...names].map((n) => [n, 'NOT_SERVING'])),
      [livenessHealthName]: 'SERVING',
    });
    health.addToServer(server);
    for (const service of options.services) {
      server.addService(tolerantDefinition(service.definition), service.implementation);
    }
    const described = protoLoader.loadSync([...options.reflectionProtoFiles, healthProtoPath], {
      includeDirs: [...options.protoIncludeDirs],
      keepCase: true,
    });
    // The proto files may describe more services than this server serves (a shared file, or the
    // embedded mode's servers loading the same set): list only the served ones.
    new ReflectionService(described, { services: [...names, healthServiceName] }).addToServer(server);
    const port = await bind(server, options.host, options.port, serverCredentials(options.tls, refreshMs));
    let healthServer: { server: grpc.Server; port: number } | undefined;
    if (options.healthPort !== undefined) {
      // Probes speak plaintext and carry no credentials: this port serves health alone.
      const only = new grpc.Server();
      health.addToServer(only);
      try {
        healthServer = {
          server: only,
          port: await bind(only, options.host, options.healthPort, grpc.ServerCredentials.createInsecure()),
        };
      } catch (err) {
        server.forceShutdown();
        throw err;
      }
    }
    access.watch(refreshMs);
    const started = new GrpcServer(
      server,
      healthServer,
      health,
      names,
      options.host,
      port,
      access,
      options.tls,
      options.logger,
    );
    started.#ready = options.ready ?? true;
    started.setStatus('SERVING');
    options.logger.info('grpc server listening', {
      endpoint: started.endpoint,
      services: names,
      ...started.security,
      ...(healthServer ? { healthPort: healthServer.port } : {}),
    });
    return started;
  }

  /** The status health reports for the server and each of its services. */
  get status(): ServingStatus {
    return this.#status;
  }

  /**
   * Sets the health status of the server and all its services; names of {@link setHealth} read
   * their own status while SERVING and NOT_SERVING otherwise, and `''` also needs
   * {@link setReady}. {@link livenessHealthName} is not affected.
   */
  setStatus(status: ServingStatus): void {
    this.#status = status;
    for (const name of this.#names) this.#health.setStatus(name, status);
    this.#health.setStatus('', status === 'SERVING' && this.#ready ? 'SERVING' : 'NOT_SERVING');
    for (const [name, own] of this.#extraHealth) {
      this.#health.setStatus(name, status === 'SERVING' ? own : 'NOT_SERVING');
    }
  }

  /** Whether the server can do its work (see {@link setReady}); the overall health also needs SERVING. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Says whether the server can do its work: the overall health `''` reads SERVING only while
   * the server serves and is ready. A service whose work needs something loaded after start (a
   * model set) starts unready; a readiness probe then keeps traffic away until it is.
   * @default true
   */
  setReady(ready: boolean): void {
    this.#ready = ready;
    this.setStatus(this.#status);
  }

  /**
   * Reports a health name of its own, such as a model set that becomes ready later than the
   * server. While the server drains, every name reads NOT_SERVING.
   */
  setHealth(name: string, status: ServingStatus): void {
    this.#extraHealth.set(name, status);
    this.#health.setStatus(name, this.#status === 'SERVING' ? status : 'NOT_SERVING');
  }

  /**
   * Drains: health NOT_SERVING, refuse new calls, let running calls finish for up to `graceMs`,
   * then cut the rest. The health-only server answers (liveness SERVING, readiness NOT_SERVING)
   * until the main server has stopped. Calling it again returns the same promise.
   */
  shutdown(graceMs: number): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      this.setStatus('NOT_SERVING');
      this.#access.close();
      const force = setTimeout(() => {
        this.#logger.warn('grace period over; cancelling remaining calls', { endpoint: this.endpoint, graceMs });
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }).then(() => this.#healthServer?.forceShutdown());
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown(0);
  }
}

function bind(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}
