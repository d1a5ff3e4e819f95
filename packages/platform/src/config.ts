/**
 * Configuration every kzr process shares: where it listens, how it logs and how long it drains.
 * Compiled once at start from the environment.
 */
import { type Env, readBytes, readChoice, readInt, readString } from './env.js';

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
}

/** Compiles the {@link ServerConfig}; throws a ConfigError naming the first bad variable. */
export function compileServerConfig(env: Env): ServerConfig {
  return Object.freeze({
    grpcHost: readString(env, 'KZR_GRPC_HOST') ?? '127.0.0.1',
    maxMessageBytes: readBytes(env, 'KZR_GRPC_MAX_MESSAGE_BYTES', 1024, 2 * 1024 ** 3 - 1) ?? 64 * 1024 ** 2,
    shutdownGraceMs: readInt(env, 'KZR_SHUTDOWN_GRACE_MS', 0, 3_600_000) ?? 10_000,
    logLevel: readChoice(env, 'KZR_LOG_LEVEL', Object.values(LogLevel)) ?? LogLevel.Info,
  });
}

/** Reads a TCP port variable; 0 means any free port. */
export function readPort(env: Env, name: string, fallback: number): number {
  return readInt(env, name, 0, 65_535) ?? fallback;
}
