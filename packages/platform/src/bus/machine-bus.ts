/**
 * One Bus per machine (DESIGN.md "Runtime modes"): `kzr start` runs a nats-server child with
 * JetStream under the data directory on a free loopback port and writes where it is to
 * `<data dir>/bus.json`; while that server is alive every `kzr` command with the same data
 * directory publishes and consumes there, so a model set imported or a dataset ingested from
 * another terminal reaches the running services. Without a live one a command keeps its own
 * in-process Bus.
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { NatsServerProcess } from './nats-server-process.js';

/** What `<data dir>/bus.json` says. */
interface MachineBusRecord {
  readonly url: string;
  /** The nats-server's process id. */
  readonly pid: number;
}

/** `<data dir>/bus.json`. */
export function machineBusFile(dataDir: string): string {
  return join(dataDir, 'bus.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The URL of the machine's Bus when `kzr start` runs one for `dataDir` and its server is alive. */
export function readMachineBus(dataDir: string): string | undefined {
  let record: MachineBusRecord;
  try {
    record = JSON.parse(readFileSync(machineBusFile(dataDir), 'utf8')) as MachineBusRecord;
  } catch {
    return undefined;
  }
  return typeof record.url === 'string' && Number.isInteger(record.pid) && alive(record.pid) ? record.url : undefined;
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no loopback port assigned');
  return address.port;
}

/** The machine's Bus server, started by {@link startMachineBus}; disposing it closes it. */
export interface MachineBus extends AsyncDisposable {
  readonly url: string;
  /** Stops the server (its JetStream state stays under the data directory) and removes `bus.json`. */
  close(): Promise<void>;
}

/** Starts the machine's nats-server (JetStream in `<data dir>/nats/`) and records it in `bus.json`. */
export async function startMachineBus(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<MachineBus> {
  const server = await NatsServerProcess.start({
    dir: join(dataDir, 'nats'),
    port: await freeLoopbackPort(),
    maxFileStore: '1GB',
    env,
  });
  const record: MachineBusRecord = { url: server.url, pid: server.pid };
  await writeFile(machineBusFile(dataDir), `${JSON.stringify(record)}\n`);
  const close = async (): Promise<void> => {
    await rm(machineBusFile(dataDir), { force: true });
    await server.stop();
  };
  return { url: server.url, close, [Symbol.asyncDispose]: close };
}
