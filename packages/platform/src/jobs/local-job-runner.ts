/**
 * The local JobRunner of the embedded mode: each job is a child process (in its own process
 * group) on this machine, with Kubernetes Job semantics: retries up to `backoffLimit`, an
 * active deadline, cancel, labels. The image is ignored; `resources.gpu` is passed on as
 * `KZR_JOB_GPUS`. Output goes to `<logDir>/<name>.log` when a log directory is given.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { ConflictError, NotFoundError } from '../errors.js';
import {
  checkJobSpec,
  checkSelector,
  JobPhase,
  type JobRunner,
  type JobSpec,
  type JobStatus,
  type WaitOptions,
} from './types.js';

/** Options of {@link LocalJobRunner}. */
export interface LocalJobRunnerOptions {
  /** Directory for job logs; none = output discarded. */
  readonly logDir?: string;
  /** Delay before a retry after a failed attempt. @default 100 */
  readonly retryDelayMs?: number;
  /** Environment every job starts from (the job's `env` is added). @default process.env */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
}

interface LocalJob {
  readonly spec: JobSpec;
  status: JobStatus;
  child: ChildProcess | undefined;
  log: WriteStream | undefined;
  timers: NodeJS.Timeout[];
  readonly waiters: Set<(status: JobStatus) => void>;
}

function terminal(status: JobStatus): boolean {
  return status.phase === JobPhase.Succeeded || status.phase === JobPhase.Failed;
}

function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Local {@link JobRunner}. */
export class LocalJobRunner implements JobRunner {
  readonly kind = 'local' as const;
  readonly #jobs = new Map<string, LocalJob>();
  readonly #options: LocalJobRunnerOptions;
  #closed = false;

  constructor(options: LocalJobRunnerOptions = {}) {
    this.#options = options;
  }

  async run(spec: JobSpec): Promise<JobStatus> {
    checkJobSpec(spec);
    if (this.#jobs.has(spec.name)) throw new ConflictError(`job ${JSON.stringify(spec.name)}`);
    const job: LocalJob = {
      spec,
      status: { name: spec.name, phase: JobPhase.Pending, labels: { ...spec.labels }, failedAttempts: 0 },
      child: undefined,
      log: undefined,
      timers: [],
      waiters: new Set(),
    };
    this.#jobs.set(spec.name, job);
    if (this.#options.logDir) {
      await mkdir(this.#options.logDir, { recursive: true });
      job.log = createWriteStream(join(this.#options.logDir, `${spec.name}.log`), { flags: 'a' });
    }
    job.status = { ...job.status, phase: JobPhase.Running, startedAt: new Date() };
    if (spec.activeDeadlineSeconds !== undefined) {
      job.timers.push(setTimeout(() => this.#fail(job, 'DeadlineExceeded'), spec.activeDeadlineSeconds * 1000));
    }
    this.#attempt(job);
    return job.status;
  }

  #attempt(job: LocalJob): void {
    if (terminal(job.status) || this.#jobs.get(job.spec.name) !== job) return;
    const { spec } = job;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.#options.baseEnv ?? process.env))
      if (value !== undefined) env[key] = value;
    Object.assign(env, spec.env, { KZR_JOB_NAME: spec.name, KZR_JOB_GPUS: String(spec.resources?.gpu ?? 0) });
    const child = spawn(spec.command[0]!, [...spec.command.slice(1), ...(spec.args ?? [])], {
      env,
      detached: true,
      stdio: ['ignore', job.log ? 'pipe' : 'ignore', job.log ? 'pipe' : 'ignore'],
    });
    job.child = child;
    if (job.log) {
      child.stdout?.pipe(job.log, { end: false });
      child.stderr?.pipe(job.log, { end: false });
    }
    let spawnFailed = false;
    child.on('error', () => {
      spawnFailed = true;
      this.#exited(job, child, 127);
    });
    child.on('exit', (code) => {
      if (!spawnFailed) this.#exited(job, child, code ?? 1);
    });
  }

  #exited(job: LocalJob, child: ChildProcess, code: number): void {
    if (job.child !== child) return;
    job.child = undefined;
    if (terminal(job.status)) return;
    if (code === 0) {
      this.#settle(job, { ...job.status, phase: JobPhase.Succeeded, finishedAt: new Date() });
      return;
    }
    const failedAttempts = job.status.failedAttempts + 1;
    job.status = { ...job.status, failedAttempts };
    if (failedAttempts > (job.spec.backoffLimit ?? 0)) {
      this.#fail(job, 'BackoffLimitExceeded');
    } else {
      job.timers.push(setTimeout(() => this.#attempt(job), this.#options.retryDelayMs ?? 100));
    }
  }

  #fail(job: LocalJob, reason: string): void {
    if (terminal(job.status)) return;
    killGroup(job.child, 'SIGKILL');
    job.child = undefined;
    this.#settle(job, { ...job.status, phase: JobPhase.Failed, finishedAt: new Date(), reason });
  }

  #settle(job: LocalJob, status: JobStatus): void {
    job.status = status;
    for (const timer of job.timers) clearTimeout(timer);
    job.timers = [];
    job.log?.end();
    for (const waiter of job.waiters) waiter(status);
    job.waiters.clear();
  }

  #get(name: string): LocalJob {
    const job = this.#jobs.get(name);
    if (!job) throw new NotFoundError(`job ${JSON.stringify(name)}`);
    return job;
  }

  async status(name: string): Promise<JobStatus> {
    return this.#get(name).status;
  }

  async wait(name: string, options: WaitOptions = {}): Promise<JobStatus> {
    const job = this.#get(name);
    if (terminal(job.status)) return job.status;
    const { signal } = options;
    signal?.throwIfAborted();
    return new Promise<JobStatus>((resolve, reject) => {
      const onAbort = (): void => {
        job.waiters.delete(done);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const done = (status: JobStatus): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(status);
      };
      job.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async cancel(name: string): Promise<void> {
    const job = this.#get(name);
    this.#jobs.delete(name);
    this.#fail(job, 'Cancelled');
  }

  async list(labels: Readonly<Record<string, string>>): Promise<JobStatus[]> {
    checkSelector(labels);
    return [...this.#jobs.values()]
      .filter((job) => Object.entries(labels).every(([k, v]) => job.status.labels[k] === v))
      .map((job) => job.status)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of this.#jobs.values()) this.#fail(job, 'Cancelled');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
