// Test helper: a whole deployment on one machine, every part its own process that a fault test
// can kill (SIGKILL) and start again on the same port: a real nats-server, the S3 server
// (s3-server-main.ts), the four services (their compiled standalone mains), and the Kubernetes
// API stand-in (in this process) that runs the trainer's phase Jobs as local processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { S3Store } from '@kzr/platform';
import { checkHealth, firstJsonLine, freePort, KubernetesApiStandIn, NatsServer, S3Server } from '@kzr/testkit';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The services, each a process of its standalone main. */
export const services = ['preprocess', 'postprocess', 'inference', 'trainer'] as const;
export type Service = (typeof services)[number];

/** A part of the deployment a fault test kills: the two servers or a service. */
export type Part = 'nats-server' | 's3' | Service;

/** A running deployment under `dir` (each process's stderr in `dir/<part>.log`). */
export class Deployment {
  readonly dir: string;
  readonly nats: NatsServer;
  readonly kube: KubernetesApiStandIn;
  readonly #s3Port: number;
  readonly #ports: Record<Service, number>;
  readonly #children = new Map<Part, ChildProcess>();

  private constructor(
    dir: string,
    nats: NatsServer,
    kube: KubernetesApiStandIn,
    s3Port: number,
    ports: Record<Service, number>,
  ) {
    this.dir = dir;
    this.nats = nats;
    this.kube = kube;
    this.#s3Port = s3Port;
    this.#ports = ports;
  }

  /** Starts every part under `dir` and waits until each answers. */
  static async start(dir: string): Promise<Deployment> {
    await mkdir(dir, { recursive: true });
    const [nats, kube] = await Promise.all([NatsServer.start(), KubernetesApiStandIn.start()]);
    await writeFile(join(dir, 'kubeconfig'), kube.kubeconfig());
    const ports = {} as Record<Service, number>;
    for (const service of services) ports[service] = await freePort();
    const deployment = new Deployment(dir, nats, kube, await freePort(), ports);
    try {
      await deployment.start('s3');
      for (const service of services) await deployment.start(service);
    } catch (err) {
      await deployment.stop();
      throw err;
    }
    return deployment;
  }

  /** The S3 server's endpoint (the same after a restart). */
  get s3Endpoint(): string {
    return `http://127.0.0.1:${this.#s3Port}`;
  }

  /** `host:port` of a service's gRPC server (the same after a restart). */
  endpoint(service: Service): string {
    return `127.0.0.1:${this.#ports[service]}`;
  }

  /** The variables that point a process (a service, `kzr`) at this deployment's Store and Bus. */
  get clusterEnv(): Record<string, string> {
    return {
      KZR_STORE: 's3',
      KZR_S3_ENDPOINT: this.s3Endpoint,
      KZR_S3_ACCESS_KEY: S3Server.accessKey,
      KZR_S3_SECRET_KEY: S3Server.secretKey,
      KZR_S3_BUCKET: 'kzr',
      KZR_BUS: 'nats',
      KZR_NATS_URL: this.nats.url,
    };
  }

  /** A connection to the deployment's Store (the caller closes it). */
  openStore(): Promise<S3Store> {
    return S3Store.connect({
      endpoint: this.s3Endpoint,
      bucket: 'kzr',
      accessKey: S3Server.accessKey,
      secretKey: S3Server.secretKey,
    });
  }

  #serviceEnv(service: Service): NodeJS.ProcessEnv {
    const cluster = this.clusterEnv;
    return {
      PATH: process.env['PATH'] ?? '',
      ...cluster,
      KZR_DATA_DIR: join(this.dir, service),
      KZR_GRPC_PORT: String(this.#ports[service]),
      KZR_LOG_LEVEL: 'warn',
      ...(service === 'inference'
        ? {
            KZR_PREPROCESS_ENDPOINT: this.endpoint('preprocess'),
            KZR_POSTPROCESS_ENDPOINT: this.endpoint('postprocess'),
          }
        : {}),
      ...(service === 'trainer'
        ? {
            KZR_JOBS: 'kubernetes',
            KUBECONFIG: join(this.dir, 'kubeconfig'),
            // A Job of the stand-in sees only its container's environment: the Store and the Bus.
            KZR_TRAINER_JOB_ENV: ['PATH', 'KZR_DATA_DIR', ...Object.keys(cluster)].join(','),
          }
        : {}),
    };
  }

  /** Starts a part that is not running (again on its port, the servers on their data) and waits until it answers. */
  async start(part: Part): Promise<void> {
    if (part === 'nats-server') return this.nats.start();
    const log = openSync(join(this.dir, `${part}.log`), 'a');
    if (part === 's3') {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(repoRoot, 'test', 'helpers', 's3-server-main.ts'),
          String(this.#s3Port),
          join(this.dir, 's3'),
        ],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', log] },
      );
      this.#children.set(part, child);
      await firstJsonLine(child, 60_000);
      return;
    }
    const main = join(repoRoot, 'services', part, 'dist', 'src', 'main.js');
    const child = spawn(process.execPath, ['--conditions=production', main], {
      env: this.#serviceEnv(part),
      stdio: ['ignore', log, log],
    });
    this.#children.set(part, child);
    // Health answers once the server listens (inference's set may still be loading).
    const deadline = Date.now() + 120_000;
    while ((await checkHealth(this.endpoint(part), '', 2000).catch(() => undefined)) === undefined) {
      if (child.exitCode !== null)
        throw new Error(`${part} exited (${child.exitCode}); see ${join(this.dir, `${part}.log`)}`);
      if (Date.now() > deadline) throw new Error(`${part} did not answer health within 120 s`);
      await sleep(200);
    }
  }

  /** Kills a part (SIGKILL; a server keeps its data) and waits until it is gone. */
  async kill(part: Part): Promise<void> {
    if (part === 'nats-server') return this.nats.kill();
    const child = this.#children.get(part);
    this.#children.delete(part);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops every part: services first (SIGTERM drains), then the servers; the stand-in kills its Jobs. */
  async stop(): Promise<void> {
    await Promise.all(
      services.map(async (service) => {
        const child = this.#children.get(service);
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        if ((await Promise.race([exited, sleep(20_000, 'timeout')])) === 'timeout') child.kill('SIGKILL');
      }),
    );
    await this.kube.cleanup();
    await this.kill('s3');
    await this.nats.cleanup();
  }
}
