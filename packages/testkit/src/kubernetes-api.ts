/**
 * A Kubernetes API stand-in for tests: the batch/v1 Jobs part of an API server over real HTTP
 * on a free loopback port, with a simulated Job controller. Usable with `await using`.
 *
 * Routes (as the official client calls them): create (201, 409 AlreadyExists on a duplicate
 * name), get and get status (404 NotFound), list with `labelSelector` / `fieldSelector`,
 * delete (its `propagationPolicy` recorded, see {@link KubernetesApiStandIn.deletions}), and watch (`?watch=true`; JSON lines; replays history after a
 * given `resourceVersion`, else starts with ADDED for every Job). {@link KubernetesApiStandIn.dropWatches}
 * cuts every open watch stream so a client's reconnect can be tested.
 *
 * The controller plays kubelet: it runs the first container's `command` + `args` as a local
 * process with the container's `env` (the image is ignored), restarts a failed pod until
 * `backoffLimit` is used up, enforces `activeDeadlineSeconds`, and writes `active`, `succeeded`,
 * `failed`, `startTime`, `completionTime` and the `Complete` / `Failed` conditions, bumping
 * `resourceVersion` and emitting MODIFIED on each change.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The Job fields the stand-in reads and writes (a subset of batch/v1 Job). */
export interface StandInJob {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec: {
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    template: {
      spec: {
        containers: Array<{
          name: string;
          image?: string;
          command?: string[];
          args?: string[];
          env?: Array<{ name: string; value?: string }>;
        }>;
      };
    };
  };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: Array<{
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
  };
}

/** A Job delete the stand-in answered. */
export interface StandInDeletion {
  readonly namespace: string;
  readonly name: string;
  /** `Background`, `Foreground`, `Orphan`; undefined when the delete named none. */
  readonly propagationPolicy: string | undefined;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: StandInJob;
  rv: number;
}

interface Watcher {
  namespace: string;
  matches: (job: StandInJob) => boolean;
  res: ServerResponse;
}

interface Running {
  child: ChildProcess | undefined;
  deadline: NodeJS.Timeout | undefined;
  restart: NodeJS.Timeout | undefined;
  done: boolean;
}

const route = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?(\/status)?$/;

function statusBody(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function selectorMatcher(labelSelector: string | null, fieldSelector: string | null): (job: StandInJob) => boolean {
  const labels = (labelSelector ?? '')
    .split(',')
    .filter(Boolean)
    .map((term) => term.split('=') as [string, string]);
  const fields = (fieldSelector ?? '')
    .split(',')
    .filter(Boolean)
    .map((term) => term.split('=') as [string, string]);
  return (job) =>
    labels.every(([k, v]) => job.metadata.labels?.[k] === v) &&
    fields.every(([k, v]) =>
      k === 'metadata.name'
        ? job.metadata.name === v
        : k === 'metadata.namespace'
          ? job.metadata.namespace === v
          : false,
    );
}

function deleteOptionsPolicy(body: string): string | undefined {
  try {
    const policy = (JSON.parse(body) as { propagationPolicy?: unknown }).propagationPolicy;
    return typeof policy === 'string' ? policy : undefined;
  } catch {
    return undefined;
  }
}

/** A running Kubernetes API stand-in. */
export class KubernetesApiStandIn implements AsyncDisposable {
  readonly #server: Server;
  readonly #jobs = new Map<string, StandInJob>();
  readonly #running = new Map<string, Running>();
  readonly #history: Array<WatchEvent & { namespace: string }> = [];
  readonly #watchers = new Set<Watcher>();
  readonly #deletions: StandInDeletion[] = [];
  readonly #restartDelayMs: number;
  #rv = 1;
  /** How many watch requests arrived (to see a client reconnect). */
  watchRequests = 0;

  private constructor(server: Server, restartDelayMs: number) {
    this.#server = server;
    this.#restartDelayMs = restartDelayMs;
  }

  /** Starts the stand-in on a free loopback port. */
  static async start(options: { restartDelayMs?: number } = {}): Promise<KubernetesApiStandIn> {
    const server = createServer();
    const standIn = new KubernetesApiStandIn(server, options.restartDelayMs ?? 50);
    server.on('request', (req, res) => standIn.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return standIn;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig (YAML) for the official client: this server, a token, `namespace` as default. */
  kubeconfig(namespace = 'kzr'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: stand-in, cluster: {server: "${this.url}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: test, user: {token: test-token}}]',
      `contexts: [{name: stand-in, context: {cluster: stand-in, user: test, namespace: ${namespace}}}]`,
      'current-context: stand-in',
      '',
    ].join('\n');
  }

  /** The Jobs as stored (bodies the client sent, plus metadata and status). */
  jobs(): StandInJob[] {
    return [...this.#jobs.values()].map((job) => structuredClone(job));
  }

  /** The Jobs deleted, in order, with the propagation policy each delete asked for. */
  deletions(): StandInDeletion[] {
    return this.#deletions.map((d) => ({ ...d }));
  }

  /** Names of the Jobs whose pod process runs now. */
  runningPods(): string[] {
    return [...this.#running]
      .filter(([, running]) => running.child?.exitCode === null && running.child.signalCode === null)
      .map(([key]) => this.#jobs.get(key)!.metadata.name);
  }

  /**
   * SIGKILLs the pod process of Job `name` (its process group), as a lost node or an OOM kill
   * would; the controller then counts a failed pod. Returns false when none runs.
   */
  killPod(name: string): boolean {
    for (const [key, running] of this.#running) {
      const pid = running.child?.pid;
      if (this.#jobs.get(key)?.metadata.name !== name || pid === undefined || running.child!.exitCode !== null)
        continue;
      try {
        process.kill(-pid, 'SIGKILL');
        return true;
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Cuts every open watch stream (the client sees its watch end and must reconnect). */
  dropWatches(): void {
    for (const watcher of this.#watchers) watcher.res.destroy();
    this.#watchers.clear();
  }

  async cleanup(): Promise<void> {
    for (const key of [...this.#running.keys()]) this.#stop(key);
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }

  #send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const match = route.exec(url.pathname);
    if (!match) return this.#send(res, 404, statusBody(404, 'NotFound', `no route ${url.pathname}`));
    const [, namespace = '', name, statusPath] = match;
    const key = `${namespace}/${name ?? ''}`;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && !name) return this.#create(namespace, body, res);
      if (req.method === 'GET' && name) {
        const job = this.#jobs.get(key);
        if (!job) return this.#send(res, 404, statusBody(404, 'NotFound', `jobs.batch "${name}" not found`));
        return this.#send(res, 200, job);
      }
      if (req.method === 'GET' && !name && url.searchParams.get('watch') === 'true')
        return this.#watch(namespace, url, res);
      if (req.method === 'GET' && !name) {
        const matches = selectorMatcher(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'));
        const items = [...this.#jobs.values()].filter((j) => j.metadata.namespace === namespace && matches(j));
        return this.#send(res, 200, {
          apiVersion: 'batch/v1',
          kind: 'JobList',
          metadata: { resourceVersion: String(this.#rv) },
          items,
        });
      }
      if (req.method === 'DELETE' && name && !statusPath) {
        const job = this.#jobs.get(key);
        if (!job) return this.#send(res, 404, statusBody(404, 'NotFound', `jobs.batch "${name}" not found`));
        // The official client sends the policy as a query parameter; DeleteOptions may carry it too.
        const policy = url.searchParams.get('propagationPolicy') ?? deleteOptionsPolicy(body);
        this.#deletions.push({ namespace, name, propagationPolicy: policy });
        this.#stop(key);
        this.#jobs.delete(key);
        this.#emit('DELETED', job);
        return this.#send(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, kind: 'jobs' },
        });
      }
      return this.#send(res, 405, statusBody(405, 'MethodNotAllowed', `${req.method} not supported`));
    });
  }

  #create(namespace: string, body: string, res: ServerResponse): void {
    let job: StandInJob;
    try {
      job = JSON.parse(body) as StandInJob;
    } catch {
      return this.#send(res, 400, statusBody(400, 'BadRequest', 'body is not JSON'));
    }
    const name = job.metadata?.name;
    if (!name || !job.spec?.template?.spec?.containers?.length) {
      return this.#send(
        res,
        422,
        statusBody(422, 'Invalid', 'metadata.name and spec.template.spec.containers are required'),
      );
    }
    const key = `${namespace}/${name}`;
    if (this.#jobs.has(key)) {
      return this.#send(res, 409, statusBody(409, 'AlreadyExists', `jobs.batch "${name}" already exists`));
    }
    job.metadata = {
      ...job.metadata,
      namespace,
      uid: randomUUID(),
      resourceVersion: String(++this.#rv),
      creationTimestamp: new Date().toISOString(),
    };
    job.status = {};
    this.#jobs.set(key, job);
    this.#emit('ADDED', job, false);
    this.#send(res, 201, job);
    setTimeout(() => this.#startPod(key), 20);
  }

  #watch(namespace: string, url: URL, res: ServerResponse): void {
    this.watchRequests++;
    const matches = selectorMatcher(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const watcher: Watcher = { namespace, matches, res };
    // Remove on the response's close: on Node 20 the request's close fires once its body is read.
    res.on('close', () => this.#watchers.delete(watcher));
    this.#watchers.add(watcher);
    const from = url.searchParams.get('resourceVersion');
    if (from) {
      for (const event of this.#history) {
        if (event.rv > Number(from) && event.namespace === namespace && matches(event.object)) {
          res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
        }
      }
    } else {
      for (const job of this.#jobs.values()) {
        if (job.metadata.namespace === namespace && matches(job))
          res.write(`${JSON.stringify({ type: 'ADDED', object: job })}\n`);
      }
    }
  }

  #emit(type: WatchEvent['type'], job: StandInJob, bump = true): void {
    if (bump) job.metadata.resourceVersion = String(++this.#rv);
    const object = structuredClone(job);
    const namespace = job.metadata.namespace ?? '';
    this.#history.push({ type, object, rv: Number(job.metadata.resourceVersion), namespace });
    for (const watcher of this.#watchers) {
      if (watcher.namespace === namespace && watcher.matches(object)) {
        watcher.res.write(`${JSON.stringify({ type, object })}\n`);
      }
    }
  }

  #startPod(key: string): void {
    const job = this.#jobs.get(key);
    if (!job) return;
    let running = this.#running.get(key);
    if (!running) {
      running = { child: undefined, deadline: undefined, restart: undefined, done: false };
      this.#running.set(key, running);
      job.status = { ...job.status, startTime: new Date().toISOString() };
      const deadlineS = job.spec.activeDeadlineSeconds;
      if (deadlineS !== undefined) {
        running.deadline = setTimeout(
          () => this.#finish(key, 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
          deadlineS * 1000,
        );
      }
    }
    const container = job.spec.template.spec.containers[0]!;
    const argv = [...(container.command ?? []), ...(container.args ?? [])];
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '' };
    for (const e of container.env ?? []) env[e.name] = e.value ?? '';
    job.status = { ...job.status, active: 1 };
    this.#emit('MODIFIED', job);
    const state = running;
    const child = spawn(argv[0] ?? 'false', argv.slice(1), { env, stdio: 'ignore', detached: true });
    state.child = child;
    child.on('error', () => undefined);
    child.on('exit', (code) => {
      if (state.done || state.child !== child) return;
      state.child = undefined;
      const current = this.#jobs.get(key);
      if (!current) return;
      if (code === 0) {
        current.status = { ...current.status, succeeded: 1 };
        this.#finish(key, 'Complete');
        return;
      }
      const failed = (current.status?.failed ?? 0) + 1;
      current.status = { ...current.status, failed, active: 0 };
      if (failed > (current.spec.backoffLimit ?? 6)) {
        this.#finish(key, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      } else {
        this.#emit('MODIFIED', current);
        state.restart = setTimeout(() => this.#startPod(key), this.#restartDelayMs);
      }
    });
  }

  #finish(key: string, type: 'Complete' | 'Failed', reason?: string, message?: string): void {
    const job = this.#jobs.get(key);
    this.#stop(key);
    if (!job) return;
    const now = new Date().toISOString();
    job.status = {
      ...job.status,
      active: 0,
      ...(type === 'Complete' ? { completionTime: now } : {}),
      conditions: [
        {
          type,
          status: 'True',
          lastTransitionTime: now,
          ...(reason ? { reason } : {}),
          ...(message ? { message } : {}),
        },
      ],
    };
    this.#emit('MODIFIED', job);
  }

  #stop(key: string): void {
    const running = this.#running.get(key);
    if (!running) return;
    running.done = true;
    clearTimeout(running.deadline);
    clearTimeout(running.restart);
    if (running.child?.pid && running.child.exitCode === null) {
      try {
        process.kill(-running.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.#running.delete(key);
  }
}
