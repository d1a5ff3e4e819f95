/**
 * The Kubernetes JobRunner of the cluster mode: each job is a batch/v1 Job with one container
 * (`restartPolicy: Never`, so `backoffLimit` counts pods), its body laid over the Job template
 * of the cluster when there is one ({@link buildJobManifest}), created, read, listed and deleted
 * through `@kubernetes/client-node` 1.4. {@link KubernetesJobRunner.wait} watches the Job by
 * name and, when the watch stream drops, reads the Job again and watches on from its
 * `resourceVersion`, so a dropped connection loses no transition.
 */
// Types only: the client is loaded on first use (see KubernetesJobRunner.#api).
import type { ApiException, BatchV1Api, KubeConfig, V1Job, Watch } from '@kubernetes/client-node';
import { ErrorKind, KzrError } from '@kzr/core';

import { ConflictError, NotFoundError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { buildJobManifest } from './job-manifest.js';
import { checkSelector, JobPhase, type JobRunner, type JobSpec, type JobStatus, type WaitOptions } from './types.js';

/** Options of {@link KubernetesJobRunner}. */
export interface KubernetesJobRunnerOptions {
  /** Loaded kube config (`loadFromDefault()` in a pod or with KUBECONFIG). */
  readonly kubeConfig: KubeConfig;
  /** Namespace of the Jobs. @default the current context's namespace, else `default` */
  readonly namespace?: string;
  /** Service account the pods run as. @default the namespace default */
  readonly serviceAccountName?: string;
  /** Name of the container in each Job. @default 'phase' */
  readonly containerName?: string;
  /**
   * The Job every body is laid over (`readJobTemplate`; `KZR_JOB_TEMPLATE_FILE`).
   * @default none: bare Jobs with the spec's fields only
   */
  readonly template?: V1Job;
  /** Pause before watching again after the stream dropped. @default 200 */
  readonly rewatchDelayMs?: number;
  readonly logger?: Logger;
}

function statusOf(job: V1Job): JobStatus {
  const status = job.status ?? {};
  const done = status.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const phase =
    done?.type === 'Complete'
      ? JobPhase.Succeeded
      : done?.type === 'Failed'
        ? JobPhase.Failed
        : (status.active ?? 0) > 0 || status.startTime
          ? JobPhase.Running
          : JobPhase.Pending;
  const finished = status.completionTime ?? done?.lastTransitionTime;
  return {
    name: job.metadata?.name ?? '',
    phase,
    labels: { ...job.metadata?.labels },
    failedAttempts: status.failed ?? 0,
    ...(status.startTime ? { startedAt: new Date(status.startTime) } : {}),
    ...(done && finished ? { finishedAt: new Date(finished) } : {}),
    ...(phase === JobPhase.Failed ? { reason: done?.reason ?? 'Failed' } : {}),
  };
}

function terminal(status: JobStatus): boolean {
  return status.phase === JobPhase.Succeeded || status.phase === JobPhase.Failed;
}

/** The API clients, made when the runner first talks to the API server. */
interface KubernetesClients {
  readonly batch: BatchV1Api;
  readonly watch: Watch;
  readonly ApiException: typeof ApiException;
}

function translate(err: unknown, what: string, clients: KubernetesClients): unknown {
  if (err instanceof clients.ApiException) {
    if (err.code === 404) return new NotFoundError(what, { cause: err });
    if (err.code === 409) return new ConflictError(what, { cause: err });
    const retryable = err.code >= 500 || err.code === 429;
    return new KzrError(
      retryable ? ErrorKind.Unavailable : ErrorKind.Internal,
      `Kubernetes API answered ${err.code} for ${what}`,
      {
        cause: err,
        retryable,
      },
    );
  }
  return err;
}

type WatchOutcome =
  { kind: 'status'; status: JobStatus } | { kind: 'deleted' } | { kind: 'dropped'; rv: string | undefined };

/** Kubernetes {@link JobRunner}. */
export class KubernetesJobRunner implements JobRunner {
  readonly kind = 'kubernetes' as const;
  #clients: Promise<KubernetesClients> | undefined;
  readonly #namespace: string;
  readonly #options: KubernetesJobRunnerOptions;
  readonly #logger: Logger;
  readonly #closing = new AbortController();

  constructor(options: KubernetesJobRunnerOptions) {
    this.#options = options;
    const context = options.kubeConfig.getContextObject(options.kubeConfig.getCurrentContext());
    this.#namespace = options.namespace ?? context?.namespace ?? 'default';
    this.#logger = options.logger ?? createLogger({ level: 'warn' });
  }

  // `@kubernetes/client-node` takes about a second to load: only a process that talks to the
  // API server loads it, on its first call.
  #api(): Promise<KubernetesClients> {
    this.#clients ??= import('@kubernetes/client-node').then((k8s) => ({
      batch: this.#options.kubeConfig.makeApiClient(k8s.BatchV1Api),
      watch: new k8s.Watch(this.#options.kubeConfig),
      ApiException: k8s.ApiException,
    }));
    return this.#clients;
  }

  /** Namespace the Jobs live in. */
  get namespace(): string {
    return this.#namespace;
  }

  async run(spec: JobSpec): Promise<JobStatus> {
    const body = buildJobManifest(spec, this.#namespace, {
      ...(this.#options.serviceAccountName ? { serviceAccountName: this.#options.serviceAccountName } : {}),
      ...(this.#options.containerName ? { containerName: this.#options.containerName } : {}),
      ...(this.#options.template ? { template: this.#options.template } : {}),
    });
    const api = await this.#api();
    try {
      return statusOf(await api.batch.createNamespacedJob({ namespace: this.#namespace, body }));
    } catch (err) {
      throw translate(err, `job ${JSON.stringify(spec.name)}`, api);
    }
  }

  async #read(name: string): Promise<V1Job> {
    const api = await this.#api();
    try {
      return await api.batch.readNamespacedJobStatus({ name, namespace: this.#namespace });
    } catch (err) {
      throw translate(err, `job ${JSON.stringify(name)}`, api);
    }
  }

  async status(name: string): Promise<JobStatus> {
    return statusOf(await this.#read(name));
  }

  async wait(name: string, options: WaitOptions = {}): Promise<JobStatus> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.#closing.signal]) : this.#closing.signal;
    let job = await this.#read(name);
    let rv = job.metadata?.resourceVersion;
    for (;;) {
      signal.throwIfAborted();
      const current = statusOf(job);
      if (terminal(current)) return current;
      const outcome = await this.#watchOnce(name, rv, signal);
      if (outcome.kind === 'status') return outcome.status;
      if (outcome.kind === 'deleted')
        return { ...current, phase: JobPhase.Failed, reason: 'Cancelled', finishedAt: new Date() };
      // The stream dropped: read again (it may have finished meanwhile) and watch on.
      await new Promise((resolve) => setTimeout(resolve, this.#options.rewatchDelayMs ?? 200));
      signal.throwIfAborted();
      try {
        job = await this.#read(name);
      } catch (err) {
        if (err instanceof NotFoundError)
          return { ...current, phase: JobPhase.Failed, reason: 'Cancelled', finishedAt: new Date() };
        this.#logger.warn('reading the job after a dropped watch failed; retrying', { name, err });
        continue;
      }
      rv = job.metadata?.resourceVersion ?? outcome.rv;
    }
  }

  async #watchOnce(name: string, rv: string | undefined, signal: AbortSignal): Promise<WatchOutcome> {
    let settle: (outcome: WatchOutcome) => void = () => {};
    let lastRv = rv;
    const outcome = new Promise<WatchOutcome>((resolve) => (settle = resolve));
    const onAbort = (): void => settle({ kind: 'dropped', rv: lastRv });
    signal.addEventListener('abort', onAbort, { once: true });
    let controller: AbortController | undefined;
    try {
      controller = await (
        await this.#api()
      ).watch.watch(
        `/apis/batch/v1/namespaces/${this.#namespace}/jobs`,
        { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: true, ...(rv ? { resourceVersion: rv } : {}) },
        (type: string, object: V1Job) => {
          if (type === 'ERROR') return settle({ kind: 'dropped', rv: undefined });
          lastRv = object.metadata?.resourceVersion ?? lastRv;
          if (type === 'DELETED') return settle({ kind: 'deleted' });
          if (type === 'BOOKMARK') return;
          const status = statusOf(object);
          if (terminal(status)) settle({ kind: 'status', status });
        },
        () => settle({ kind: 'dropped', rv: lastRv }),
      );
    } catch (err) {
      this.#logger.warn('watch request failed', { name, err });
      settle({ kind: 'dropped', rv: lastRv });
    }
    try {
      return await outcome;
    } finally {
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
    }
  }

  async cancel(name: string): Promise<void> {
    const api = await this.#api();
    try {
      await api.batch.deleteNamespacedJob({ name, namespace: this.#namespace, propagationPolicy: 'Background' });
    } catch (err) {
      throw translate(err, `job ${JSON.stringify(name)}`, api);
    }
  }

  async list(labels: Readonly<Record<string, string>>): Promise<JobStatus[]> {
    checkSelector(labels);
    const labelSelector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const api = await this.#api();
    try {
      const list = await api.batch.listNamespacedJob({
        namespace: this.#namespace,
        ...(labelSelector ? { labelSelector } : {}),
      });
      return list.items.map(statusOf).sort((a, b) => a.name.localeCompare(b.name));
    } catch (err) {
      throw translate(err, 'jobs', api);
    }
  }

  async close(): Promise<void> {
    this.#closing.abort(new KzrError(ErrorKind.Cancelled, 'the job runner is closed'));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
