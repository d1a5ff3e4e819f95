/**
 * A real `nats-server` with JetStream for tests (platform's {@link NatsServerProcess}):
 * loopback only, a free port picked once and kept across {@link NatsServer.restart}, a temporary
 * store directory. Usable with `await using`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, NatsServerProcess } from '@kzr/platform';

/** Options of {@link NatsServer.start}. */
export interface NatsServerOptions {
  /** @default '64MB' */
  readonly maxMemoryStore?: string;
  /** @default '256MB' */
  readonly maxFileStore?: string;
  /** How long to wait for "Server is ready". @default 10000 */
  readonly startTimeoutMs?: number;
  /**
   * More lines of `nats.conf`: `accounts { … }` with users and permissions, `tls { … }` with a
   * `TestPki`'s files. @default none (open, plaintext)
   */
  readonly extraConfig?: readonly string[];
}

/** A running nats-server. */
export class NatsServer implements AsyncDisposable {
  /** The client port on 127.0.0.1 (the same after a restart). */
  readonly port: number;
  /** Directory holding the config and the JetStream store. */
  readonly dir: string;
  readonly #options: NatsServerOptions;
  #process: NatsServerProcess | undefined;

  private constructor(port: number, dir: string, options: NatsServerOptions) {
    this.port = port;
    this.dir = dir;
    this.#options = options;
  }

  /** Starts a server on a free port with a fresh store. */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-nats-'));
    const server = new NatsServer(await freePort(), dir, options);
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
    return this.#process?.running ?? false;
  }

  async #launch(): Promise<void> {
    this.#process = await NatsServerProcess.start({ ...this.#options, dir: this.dir, port: this.port });
  }

  /** Stops the server gracefully (SIGTERM: JetStream state is flushed); the store is kept. */
  async stop(): Promise<void> {
    await this.#process?.stop();
    this.#process = undefined;
  }

  /**
   * Kills the server (SIGKILL: what JetStream has not synced is lost, as in a crash); the store is
   * kept for {@link NatsServer.start}.
   */
  async kill(): Promise<void> {
    const server = this.#process;
    this.#process = undefined;
    if (!server?.running) return;
    process.kill(server.pid, 'SIGKILL');
    while (server.running) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Starts the server again on the same port with the same store. */
  async start(): Promise<void> {
    if (this.running) return;
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
