/**
 * A real `nats-server` with JetStream for tests: loopback only, a free port picked once and kept
 * across {@link NatsServer.restart}, a temporary store directory, and JetStream limits set
 * (without them nats-server reserves 75 % of RAM and disk). Usable with `await using`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './free-port.js';

/** Options of {@link NatsServer.start}. */
export interface NatsServerOptions {
  /** @default '64MB' */
  readonly maxMemoryStore?: string;
  /** @default '256MB' */
  readonly maxFileStore?: string;
  /** How long to wait for "Server is ready". @default 10000 */
  readonly startTimeoutMs?: number;
}

/** The binary: `KZR_NATS_SERVER`, else `nats-server` on PATH, else Debian's `/usr/sbin/nats-server`. */
function binary(): string {
  const fromEnv = process.env['KZR_NATS_SERVER'];
  if (fromEnv) return fromEnv;
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/local/bin', '/usr/bin'])) {
    if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  throw new Error(
    'nats-server not found: install the Debian package nats-server (scripts/ensure-env.sh does) or set KZR_NATS_SERVER',
  );
}

/** A running nats-server. */
export class NatsServer implements AsyncDisposable {
  /** The client port on 127.0.0.1 (the same after a restart). */
  readonly port: number;
  /** Directory holding the config and the JetStream store. */
  readonly dir: string;
  readonly #options: Required<NatsServerOptions>;
  #child: ChildProcess | undefined;
  #log = '';

  private constructor(port: number, dir: string, options: Required<NatsServerOptions>) {
    this.port = port;
    this.dir = dir;
    this.#options = options;
  }

  /** Starts a server on a free port with a fresh store. */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-nats-'));
    const server = new NatsServer(await freePort(), dir, {
      maxMemoryStore: options.maxMemoryStore ?? '64MB',
      maxFileStore: options.maxFileStore ?? '256MB',
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
    });
    await writeFile(
      join(dir, 'nats.conf'),
      [
        `listen: 127.0.0.1:${server.port}`,
        'jetstream {',
        `  store_dir: ${JSON.stringify(join(dir, 'js'))}`,
        `  max_memory_store: ${server.#options.maxMemoryStore}`,
        `  max_file_store: ${server.#options.maxFileStore}`,
        '}',
        '',
      ].join('\n'),
    );
    try {
      await server.#launch();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return server;
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  async #launch(): Promise<void> {
    this.#log = '';
    const child = spawn(binary(), ['-c', join(this.dir, 'nats.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server not ready after ${this.#options.startTimeoutMs} ms:\n${this.#log}`)),
        this.#options.startTimeoutMs,
      );
      child.stderr!.on('data', (chunk: Buffer) => {
        this.#log += chunk.toString();
        if (this.#log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${this.#log}`));
      });
    });
    try {
      await ready;
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** Stops the server gracefully (SIGTERM: JetStream state is flushed); the store is kept. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Starts the server again on the same port with the same store. */
  async start(): Promise<void> {
    if (this.#child) return;
    // The port was ours; retry briefly in case the OS has not released it yet.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#launch();
        return;
      } catch (err) {
        if (attempt >= 20 || !/address already in use/i.test(String(err))) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Stops and starts again (same port, same store). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and removes its store. */
  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}
