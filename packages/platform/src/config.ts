/**
 * Configuration every kzr process shares: where it listens, how it logs and how long it drains.
 * Compiled once at start from the environment.
 */
import { type Env, readBool, readBytes, readChoice, readInt, readString } from './env.js';
import { ConfigError } from './errors.js';
import { accessFileVariable, readAccessFile } from './grpc/auth.js';
import {
  compileGrpcClientConfig,
  compileGrpcServerTls,
  type GrpcClientConfig,
  type GrpcServerTls,
} from './grpc/tls.js';

export const LogLevel = { Debug: 'debug', Info: 'info', Warn: 'warn', Error: 'error' } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Settings of the gRPC server kit and the process lifecycle. */
export interface ServerConfig {
  /**
   * Interface the gRPC servers bind (`KZR_GRPC_HOST`).
   * @default '127.0.0.1'
   */
  readonly grpcHost: string;
  /**
   * Largest gRPC message accepted or sent, in bytes (`KZR_GRPC_MAX_MESSAGE_BYTES`, e.g. `64MiB`).
   * Pages are sent inline, so this bounds the size of a page scan.
   * @default 67108864 (64 MiB)
   */
  readonly maxMessageBytes: number;
  /**
   * How long in-flight calls may run after SIGTERM/SIGINT before they are cut
   * (`KZR_SHUTDOWN_GRACE_MS`).
   * @default 10000
   */
  readonly shutdownGraceMs: number;
  /**
   * Minimum level of log lines written to stderr (`KZR_LOG_LEVEL`).
   * @default 'info'
   */
  readonly logLevel: LogLevel;
  /**
   * TLS of the gRPC servers (`KZR_GRPC_TLS_CERT_FILE`, `KZR_GRPC_TLS_KEY_FILE`, and
   * `KZR_GRPC_TLS_CLIENT_CA_FILE` for mTLS); the files are read again when they change.
   * @default undefined (plaintext)
   */
  readonly grpcTls: GrpcServerTls | undefined;
  /**
   * The access file mapping token hashes and certificate subjects to roles
   * (`KZR_AUTH_TOKENS_FILE`, see SECURITY.md); read again when it changes.
   * @default undefined (open, unless mTLS is on)
   */
  readonly authTokensFile: string | undefined;
  /**
   * How this process calls other kzr servers (`KZR_GRPC_TLS_CA_FILE`, `KZR_AUTH_TOKEN` or
   * `KZR_AUTH_TOKEN_FILE`).
   * @default plaintext, no token
   */
  readonly grpcClient: GrpcClientConfig;
}

/** Whether `host` is a loopback interface, reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Compiles the {@link ServerConfig}; throws a ConfigError naming the first bad variable. */
export function compileServerConfig(env: Env): ServerConfig {
  const grpcHost = readString(env, 'KZR_GRPC_HOST') ?? '127.0.0.1';
  const grpcTls = compileGrpcServerTls(env);
  const authTokensFile = readString(env, accessFileVariable);
  if (authTokensFile !== undefined) readAccessFile(authTokensFile);
  // Open only where nobody else can reach: another interface needs callers to prove who they are.
  const authenticated = authTokensFile !== undefined || grpcTls?.clientCaFile !== undefined;
  if (!isLoopbackHost(grpcHost) && !authenticated && readBool(env, 'KZR_INSECURE') !== true) {
    throw new ConfigError(
      'KZR_GRPC_HOST',
      grpcHost,
      'a loopback address while no auth is configured (set KZR_AUTH_TOKENS_FILE or KZR_GRPC_TLS_CLIENT_CA_FILE, or KZR_INSECURE=1 to serve every caller)',
    );
  }
  return Object.freeze({
    grpcHost,
    maxMessageBytes: readBytes(env, 'KZR_GRPC_MAX_MESSAGE_BYTES', 1024, 2 * 1024 ** 3 - 1) ?? 64 * 1024 ** 2,
    shutdownGraceMs: readInt(env, 'KZR_SHUTDOWN_GRACE_MS', 0, 3_600_000) ?? 10_000,
    logLevel: readChoice(env, 'KZR_LOG_LEVEL', Object.values(LogLevel)) ?? LogLevel.Info,
    grpcTls,
    authTokensFile,
    grpcClient: compileGrpcClientConfig(env),
  });
}

/** Reads a TCP port variable; 0 means any free port. */
export function readPort(env: Env, name: string, fallback: number): number {
  return readInt(env, name, 0, 65_535) ?? fallback;
}
