/**
 * A `nats-server` child process with JetStream, on loopback: the one Bus of a machine that
 * `kzr start` runs (its store under the data directory), and the real server the tests start.
 * Its config file and JetStream store live in one folder; JetStream limits are set (without them
 * nats-server reserves 75 % of RAM and disk).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ConfigError } from '../errors.js';

/** Options of {@link NatsServerProcess.start}. */
export interface NatsServerProcessOptions {
  /** Folder of `nats.conf` and the JetStream store (`js/`); created when missing. */
  readonly dir: string;
  /** Client port on 127.0.0.1. */
  readonly port: number;
  /** @default '64MB' */
  readonly maxMemoryStore?: string;
  /** @default '256MB' */
  readonly maxFileStore?: string;
  /** How long to wait for "Server is ready". @default 10000 */
  readonly startTimeoutMs?: number;
  /** Environment to read `KZR_NATS_SERVER` and `PATH` from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** More lines of `nats.conf` (accounts, authorization, tls), for tests of a secured server. @default none */
  readonly extraConfig?: readonly string[];
}

/** The binary: `KZR_NATS_SERVER`, else `nats-server` on PATH, else Debian's `/usr/sbin/nats-server`. */
export function natsServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['KZR_NATS_SERVER'];
  if (fromEnv) return fromEnv;
  for (const dir of (env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/local/bin', '/usr/bin'])) {
    if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  throw new ConfigError(
    'KZR_NATS_SERVER',
    '',
    'a nats-server binary (install the Debian package nats-server, as scripts/ensure-env.sh does, or set KZR_NATS_SERVER)',
  );
}

/** A running nats-server. */
export class NatsServerProcess {
  readonly port: number;
  readonly #child: ChildProcess;
  #exited = false;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.#child = child;
    child.once('exit', () => (this.#exited = true));
  }

  /** Writes the config and starts the server; resolves once it is ready to accept clients. */
  static async start(options: NatsServerProcessOptions): Promise<NatsServerProcess> {
    await mkdir(options.dir, { recursive: true });
    const conf = join(options.dir, 'nats.conf');
    await writeFile(
      conf,
      [
        `listen: 127.0.0.1:${options.port}`,
        'jetstream {',
        `  store_dir: ${JSON.stringify(join(options.dir, 'js'))}`,
        `  max_memory_store: ${options.maxMemoryStore ?? '64MB'}`,
        `  max_file_store: ${options.maxFileStore ?? '256MB'}`,
        '}',
        ...(options.extraConfig ?? []),
        '',
      ].join('\n'),
    );
    const child = spawn(natsServerBinary(options.env), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server not ready after ${timeoutMs} ms:\n${log}`)),
        timeoutMs,
      );
      child.stderr!.on('data', (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-8000);
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${log}`));
      });
    });
    try {
      await ready;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return new NatsServerProcess(options.port, child);
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid!;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return !this.#exited;
  }

  /** Stops the server gracefully (SIGTERM: JetStream state is flushed; SIGKILL after 5 s). */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
