/**
 * The run-state reducer: the phase records of `runs/<run>/run.json`, in the order they were
 * written, folded into the state of every phase and of the run. The controller that writes the
 * records (the trainer, `kzr run start`) holds no other state: restarted, it reads the records,
 * reduces them and asks the planner what to do next.
 *
 * Records that arrive late are tolerated the way an orchestrator sees them: a completion of an
 * older attempt still completes the phase (its outputs and cache entry exist), a failure or
 * cancellation of an attempt that is no longer the current one changes nothing. Records that
 * cannot happen (an unknown phase, an attempt started out of order) are refused.
 */
import { RunRecordError } from './errors.js';
import { FieldReader } from './fields.js';
import { parsePhaseId, type PhaseGraph, type PhaseId } from './phase-graph.js';

/** Kinds of phase record. */
export const RunEventType = {
  /** An attempt of a phase started (its Job was created). */
  Started: 'started',
  /** A training phase saved a checkpoint (so a retry can resume after it). */
  Checkpoint: 'checkpoint',
  /** The phase finished: its manifest and cache entry are written, or its cache entry was found. */
  Completed: 'completed',
  /** An attempt failed (the Job failed, or vanished: a vanished Job is a retryable failure). */
  Failed: 'failed',
  /** An attempt was stopped because the run was cancelled or failed. */
  Cancelled: 'cancelled',
  /** Someone asked to cancel the run. */
  CancelRequested: 'cancel-requested',
} as const;
export type RunEventType = (typeof RunEventType)[keyof typeof RunEventType];

/** {@link RunEventType.Started}. */
export interface StartedEvent {
  readonly type: typeof RunEventType.Started;
  readonly phase: PhaseId;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly inputHash: string;
  /** The attempt resumes after a checkpoint of an earlier attempt. */
  readonly resume: boolean;
  readonly at: string;
}

/** {@link RunEventType.Checkpoint}. */
export interface CheckpointEvent {
  readonly type: typeof RunEventType.Checkpoint;
  readonly phase: PhaseId;
  readonly attempt: number;
  /** Epochs completed when it was saved. */
  readonly epoch: number;
  readonly at: string;
}

/** {@link RunEventType.Completed}. */
export interface CompletedEvent {
  readonly type: typeof RunEventType.Completed;
  readonly phase: PhaseId;
  /** The attempt that produced it; for a cache hit, the attempts made so far (0 when none). */
  readonly attempt: number;
  readonly inputHash: string;
  /** The Store key of the phase's manifest (another run's, on a cache hit). */
  readonly manifestKey: string;
  /** sha256 of the manifest's bytes: what the phases downstream hash. */
  readonly manifestSha256: string;
  /** The outputs were found in the cache; the phase did not run. */
  readonly cacheHit: boolean;
  readonly at: string;
}

/** {@link RunEventType.Failed}. */
export interface FailedEvent {
  readonly type: typeof RunEventType.Failed;
  readonly phase: PhaseId;
  readonly attempt: number;
  /** Whether running it again may succeed (core's `KzrError.retryable`; a vanished Job: true). */
  readonly retryable: boolean;
  /** One line for a person. */
  readonly error: string;
  readonly at: string;
}

/** {@link RunEventType.Cancelled}. */
export interface CancelledEvent {
  readonly type: typeof RunEventType.Cancelled;
  readonly phase: PhaseId;
  readonly attempt: number;
  readonly at: string;
}

/** {@link RunEventType.CancelRequested}. */
export interface CancelRequestedEvent {
  readonly type: typeof RunEventType.CancelRequested;
  readonly reason: string | undefined;
  readonly at: string;
}

/** One phase record of a run. */
export type RunEvent =
  StartedEvent | CheckpointEvent | CompletedEvent | FailedEvent | CancelledEvent | CancelRequestedEvent;

/** Where a phase stands. */
export const PhaseStatus = {
  Pending: 'pending',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
export type PhaseStatus = (typeof PhaseStatus)[keyof typeof PhaseStatus];

/** Where the run stands. `succeeded`, `failed` and `cancelled` are final. */
export const RunStatus = {
  /** Nothing has happened yet. */
  Queued: 'queued',
  Running: 'running',
  Succeeded: 'succeeded',
  /** A phase failed for good (not retryable, or out of retries). */
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** The state of one phase. */
export interface PhaseState {
  readonly id: PhaseId;
  readonly status: PhaseStatus;
  /** Attempts started (a cache hit without a run starts none). */
  readonly attempts: number;
  /** Of the last start or the completion. */
  readonly inputHash: string | undefined;
  readonly cacheHit: boolean;
  readonly manifestKey: string | undefined;
  readonly manifestSha256: string | undefined;
  /** The last checkpoint recorded by any attempt, as epochs completed. */
  readonly checkpointEpoch: number | undefined;
  /** The failure of the last attempt, when it failed. */
  readonly error: { readonly message: string; readonly retryable: boolean } | undefined;
}

/** The state of a run. */
export interface RunState {
  readonly status: RunStatus;
  /** Every phase of the graph, in graph order. */
  readonly phases: ReadonlyMap<PhaseId, PhaseState>;
  readonly cancelRequested: boolean;
  /** The phase that failed the run, when it failed. */
  readonly failedPhase: PhaseId | undefined;
}

/** Whether a run status is final. */
export function isFinalRunStatus(status: RunStatus): boolean {
  return status === RunStatus.Succeeded || status === RunStatus.Failed || status === RunStatus.Cancelled;
}

/** Whether a failed phase may still be retried: its failure is retryable and attempts remain. */
export function canRetry(phase: PhaseState, retryLimit: number): boolean {
  const retryableStop =
    phase.status === PhaseStatus.Cancelled || (phase.status === PhaseStatus.Failed && phase.error?.retryable === true);
  return retryableStop && phase.attempts <= retryLimit;
}

/** The state of a run before any record: every phase pending. */
export function initialRunState(graph: PhaseGraph): RunState {
  const phases = new Map<PhaseId, PhaseState>(
    graph.phases.map((p) => [
      p.id,
      {
        id: p.id,
        status: PhaseStatus.Pending,
        attempts: 0,
        inputHash: undefined,
        cacheHit: false,
        manifestKey: undefined,
        manifestSha256: undefined,
        checkpointEpoch: undefined,
        error: undefined,
      },
    ]),
  );
  return { status: RunStatus.Queued, phases, cancelRequested: false, failedPhase: undefined };
}

function deriveStatus(graph: PhaseGraph, state: RunState): Pick<RunState, 'status' | 'failedPhase'> {
  // Final statuses stick: a failure after a cancel request leaves the run cancelled, and the reverse.
  if (isFinalRunStatus(state.status)) return state;
  if (state.cancelRequested) return { status: RunStatus.Cancelled, failedPhase: undefined };
  const phases = [...state.phases.values()];
  const stopped = (p: PhaseState): boolean => p.status === PhaseStatus.Failed || p.status === PhaseStatus.Cancelled;
  const failed = phases.find((p) => stopped(p) && !canRetry(p, graph.spec.execution.retryLimit));
  if (failed) return { status: RunStatus.Failed, failedPhase: failed.id };
  if (phases.every((p) => p.status === PhaseStatus.Succeeded))
    return { status: RunStatus.Succeeded, failedPhase: undefined };
  const begun = phases.some((p) => p.status !== PhaseStatus.Pending);
  return { status: begun ? RunStatus.Running : RunStatus.Queued, failedPhase: undefined };
}

/**
 * Applies one record to a state and returns the new state (the old one is not changed).
 * `field` names the record in errors (`run.events[4]`).
 */
export function applyRunEvent(graph: PhaseGraph, state: RunState, event: RunEvent, field = 'event'): RunState {
  let next: RunState;
  if (event.type === RunEventType.CancelRequested) {
    next = { ...state, cancelRequested: true };
  } else {
    const phase = state.phases.get(event.phase);
    if (phase === undefined) throw new RunRecordError(`${field}.phase`, `the run has no phase ${event.phase}`);
    if (event.type === RunEventType.Started ? event.attempt !== phase.attempts + 1 : event.attempt > phase.attempts) {
      throw new RunRecordError(
        `${field}.attempt`,
        `attempt ${event.attempt} of ${event.phase} ${event.type} after ${phase.attempts} started`,
      );
    }
    const current = event.attempt === phase.attempts;
    let updated: PhaseState = phase;
    switch (event.type) {
      case RunEventType.Started:
        if (phase.status === PhaseStatus.Running || phase.status === PhaseStatus.Succeeded) {
          throw new RunRecordError(`${field}.type`, `${event.phase} started while ${phase.status}`);
        }
        updated = {
          ...phase,
          status: PhaseStatus.Running,
          attempts: event.attempt,
          inputHash: event.inputHash,
          error: undefined,
        };
        break;
      case RunEventType.Checkpoint:
        updated = { ...phase, checkpointEpoch: Math.max(phase.checkpointEpoch ?? 0, event.epoch) };
        break;
      case RunEventType.Completed:
        // The first completion wins; a late one of another attempt names the same outputs.
        if (phase.status !== PhaseStatus.Succeeded) {
          updated = {
            ...phase,
            status: PhaseStatus.Succeeded,
            inputHash: event.inputHash,
            cacheHit: event.cacheHit,
            manifestKey: event.manifestKey,
            manifestSha256: event.manifestSha256,
            error: undefined,
          };
        }
        break;
      case RunEventType.Failed:
        if (current && phase.status === PhaseStatus.Running) {
          updated = {
            ...phase,
            status: PhaseStatus.Failed,
            error: { message: event.error, retryable: event.retryable },
          };
        }
        break;
      case RunEventType.Cancelled:
        if (current && phase.status === PhaseStatus.Running) updated = { ...phase, status: PhaseStatus.Cancelled };
        break;
    }
    const phases = new Map(state.phases);
    phases.set(phase.id, updated);
    next = { ...state, phases };
  }
  return { ...next, ...deriveStatus(graph, next) };
}

/** Folds a run's records, in order, into its state. */
export function reduceRunState(graph: PhaseGraph, events: readonly RunEvent[], field = 'run.events'): RunState {
  return events.reduce(
    (state, event, i) => applyRunEvent(graph, state, event, `${field}[${i}]`),
    initialRunState(graph),
  );
}

/** Parses and checks one phase record; throws a {@link RunRecordError} naming the bad field. */
export function parseRunEvent(value: unknown, field = 'event'): RunEvent {
  const r = new FieldReader((f, problem) => new RunRecordError(f, problem));
  const type = r.choice(`${field}.type`, (value as { type?: unknown } | null)?.type, Object.values(RunEventType));
  const phase = (o: Record<string, unknown>): PhaseId => {
    const id = r.string(`${field}.phase`, o.phase);
    parsePhaseId(id, `${field}.phase`);
    return id;
  };
  const attempt = (o: Record<string, unknown>, min: number): number => r.int(`${field}.attempt`, o.attempt, min);
  const at = (o: Record<string, unknown>): string => r.time(`${field}.at`, o.at);
  switch (type) {
    case RunEventType.Started: {
      const o = r.object(field, value, ['type', 'phase', 'attempt', 'inputHash', 'resume', 'at']);
      return {
        type,
        phase: phase(o),
        attempt: attempt(o, 1),
        inputHash: r.sha256(`${field}.inputHash`, o.inputHash),
        resume: r.boolean(`${field}.resume`, o.resume),
        at: at(o),
      };
    }
    case RunEventType.Checkpoint: {
      const o = r.object(field, value, ['type', 'phase', 'attempt', 'epoch', 'at']);
      return { type, phase: phase(o), attempt: attempt(o, 1), epoch: r.int(`${field}.epoch`, o.epoch, 1), at: at(o) };
    }
    case RunEventType.Completed: {
      const o = r.object(field, value, [
        'type',
        'phase',
        'attempt',
        'inputHash',
        'manifestKey',
        'manifestSha256',
        'cacheHit',
        'at',
      ]);
      const cacheHit = r.boolean(`${field}.cacheHit`, o.cacheHit);
      return {
        type,
        phase: phase(o),
        attempt: attempt(o, cacheHit ? 0 : 1),
        inputHash: r.sha256(`${field}.inputHash`, o.inputHash),
        manifestKey: r.string(`${field}.manifestKey`, o.manifestKey),
        manifestSha256: r.sha256(`${field}.manifestSha256`, o.manifestSha256),
        cacheHit,
        at: at(o),
      };
    }
    case RunEventType.Failed: {
      const o = r.object(field, value, ['type', 'phase', 'attempt', 'retryable', 'error', 'at']);
      return {
        type,
        phase: phase(o),
        attempt: attempt(o, 1),
        retryable: r.boolean(`${field}.retryable`, o.retryable),
        error: r.string(`${field}.error`, o.error),
        at: at(o),
      };
    }
    case RunEventType.Cancelled: {
      const o = r.object(field, value, ['type', 'phase', 'attempt', 'at']);
      return { type, phase: phase(o), attempt: attempt(o, 1), at: at(o) };
    }
    case RunEventType.CancelRequested: {
      const o = r.object(field, value, ['type', 'reason', 'at']);
      return { type, reason: o.reason === undefined ? undefined : r.string(`${field}.reason`, o.reason), at: at(o) };
    }
  }
}
