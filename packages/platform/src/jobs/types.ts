/**
 * The JobRunner: runs a training phase as a job. Two implementations share these semantics and
 * one contract suite: {@link KubernetesJobRunner} (batch/v1 Jobs) and {@link LocalJobRunner}
 * (child processes on this machine; the embedded mode).
 */
import { ValidationError } from '../errors.js';

/** Where a job is. */
export const JobPhase = {
  /** Created, not started yet. */
  Pending: 'Pending',
  /** A process (pod) runs. */
  Running: 'Running',
  /** Finished with exit code 0. */
  Succeeded: 'Succeeded',
  /** Gave up: backoff limit used up, deadline passed, or cancelled. */
  Failed: 'Failed',
} as const;
export type JobPhase = (typeof JobPhase)[keyof typeof JobPhase];

/** Label that ties a job to its training run; {@link JobRunner.list} selects on it. */
export const runLabel = 'kzr.io/run';

/** What a job may use. */
export interface JobResources {
  /** CPU request and limit, Kubernetes quantity (`500m`, `2`). */
  readonly cpu?: string;
  /** Memory request and limit, Kubernetes quantity (`512Mi`, `4Gi`). */
  readonly memory?: string;
  /** GPUs (`nvidia.com/gpu`). Local jobs see it as `KZR_JOB_GPUS`. @default 0 */
  readonly gpu?: number;
}

/** A job to run. */
export interface JobSpec {
  /** Unique name: a DNS-1123 label (lowercase letters, digits, `-`; at most 63). */
  readonly name: string;
  /** Container image (ignored by the local runner). */
  readonly image: string;
  /** Executable and its first arguments. */
  readonly command: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly resources?: JobResources;
  /** Retries after a failed attempt before the job fails. @default 0 */
  readonly backoffLimit?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Longest the job may be active before it is stopped and failed. */
  readonly activeDeadlineSeconds?: number;
}

/** What a job is doing. */
export interface JobStatus {
  readonly name: string;
  readonly phase: JobPhase;
  readonly labels: Readonly<Record<string, string>>;
  /** Failed attempts so far. */
  readonly failedAttempts: number;
  readonly startedAt?: Date;
  readonly finishedAt?: Date;
  /** Why it failed: `BackoffLimitExceeded`, `DeadlineExceeded`, `Cancelled`. */
  readonly reason?: string;
}

/** Options of {@link JobRunner.wait}. */
export interface WaitOptions {
  readonly signal?: AbortSignal;
}

/** The JobRunner adapter interface. */
export interface JobRunner extends AsyncDisposable {
  /** Which implementation: `kubernetes` or `local`. */
  readonly kind: 'kubernetes' | 'local';
  /** Creates and starts a job; a ConflictError when the name is taken. */
  run(spec: JobSpec): Promise<JobStatus>;
  /** The job's status; NotFoundError when there is none. */
  status(name: string): Promise<JobStatus>;
  /**
   * Resolves when the job has Succeeded or Failed (a cancelled job: Failed, `Cancelled`).
   * NotFoundError when there is no such job.
   */
  wait(name: string, options?: WaitOptions): Promise<JobStatus>;
  /** Stops the job and removes it; NotFoundError when there is none. */
  cancel(name: string): Promise<void>;
  /** Jobs whose labels include all of `labels`, by name. */
  list(labels: Readonly<Record<string, string>>): Promise<JobStatus[]>;
  /** Stops watching; local jobs are stopped. Idempotent. */
  close(): Promise<void>;
}

const labelKey = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Checks a spec the same way for both runners; a ValidationError names the field. */
export function checkJobSpec(spec: JobSpec): void {
  if (typeof spec.name !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(spec.name)) {
    throw new ValidationError('name', `${JSON.stringify(spec.name)} is not a DNS-1123 label (a-z, 0-9, -; at most 63)`);
  }
  if (!spec.image) throw new ValidationError('image', 'must not be empty');
  if (
    !Array.isArray(spec.command) ||
    spec.command.length === 0 ||
    spec.command.some((c) => typeof c !== 'string' || !c)
  ) {
    throw new ValidationError('command', 'must be a non-empty list of non-empty strings');
  }
  if (spec.args?.some((a) => typeof a !== 'string')) throw new ValidationError('args', 'must be strings');
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ValidationError(`env.${key}`, 'is not a variable name');
    if (typeof value !== 'string') throw new ValidationError(`env.${key}`, 'must be a string');
  }
  for (const [key, value] of Object.entries(spec.labels ?? {})) {
    if (!labelKey.test(key)) throw new ValidationError(`labels.${key}`, 'is not a label key');
    if (typeof value !== 'string' || !labelValue.test(value))
      throw new ValidationError(`labels.${key}`, 'is not a label value');
  }
  const { backoffLimit, activeDeadlineSeconds, resources } = spec;
  if (backoffLimit !== undefined && (!Number.isInteger(backoffLimit) || backoffLimit < 0)) {
    throw new ValidationError('backoffLimit', 'expected an integer >= 0');
  }
  if (activeDeadlineSeconds !== undefined && (!Number.isInteger(activeDeadlineSeconds) || activeDeadlineSeconds < 1)) {
    throw new ValidationError('activeDeadlineSeconds', 'expected an integer >= 1');
  }
  if (resources?.gpu !== undefined && (!Number.isInteger(resources.gpu) || resources.gpu < 0)) {
    throw new ValidationError('resources.gpu', 'expected an integer >= 0');
  }
  for (const key of ['cpu', 'memory'] as const) {
    const value = resources?.[key];
    if (value !== undefined && !/^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.test(value)) {
      throw new ValidationError(`resources.${key}`, `${JSON.stringify(value)} is not a quantity`);
    }
  }
}

/** Checks a label selector given to {@link JobRunner.list}. */
export function checkSelector(labels: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(labels)) {
    if (!labelKey.test(key)) throw new ValidationError(`labels.${key}`, 'is not a label key');
    if (!labelValue.test(value)) throw new ValidationError(`labels.${key}`, 'is not a label value');
  }
}
