/**
 * The JSON lines `kzr run start` and `kzr run watch` print: one per phase whose state changed,
 * and one for the run when it ends; and the line of each run `kzr run list` prints. They derive
 * them from reduced run states, so the controller and a watcher in another process print the
 * same lines for the same records; a command that asks the trainer instead gets the same lines
 * from the wire (`convert.ts`).
 */
import { PhaseStatus, type RunRecord, type RunState, type RunStatus } from '@kzr/pipeline';

/** A phase changed state. */
export interface PhaseLine {
  readonly type: 'phase';
  readonly phase: string;
  readonly status: PhaseStatus;
  readonly attempt: number;
  /** Completed from the cache without running. */
  readonly cacheHit?: boolean;
  /** Why the attempt failed. */
  readonly error?: string;
  readonly retryable?: boolean;
  /** An attempt that resumes after a checkpoint (`running` only). */
  readonly checkpointEpoch?: number;
}

/** The lines for every phase whose status or attempt differs between `prev` and `next`, in graph order. */
export function phaseLines(prev: RunState | undefined, next: RunState): PhaseLine[] {
  const lines: PhaseLine[] = [];
  for (const p of next.phases.values()) {
    const before = prev?.phases.get(p.id);
    const changed =
      before === undefined
        ? p.status !== PhaseStatus.Pending
        : before.status !== p.status || before.attempts !== p.attempts;
    if (!changed) continue;
    lines.push({
      type: 'phase',
      phase: p.id,
      status: p.status,
      attempt: p.attempts,
      ...(p.status === PhaseStatus.Succeeded ? { cacheHit: p.cacheHit } : {}),
      ...(p.status === PhaseStatus.Failed && p.error ? { error: p.error.message, retryable: p.error.retryable } : {}),
      ...(p.status === PhaseStatus.Running && p.attempts > 1 && p.checkpointEpoch !== undefined
        ? { checkpointEpoch: p.checkpointEpoch }
        : {}),
    });
  }
  return lines;
}

/** A run as its lines tell it: from a record and its reduced state ({@link summarizeRun}) or from the wire. */
export interface RunSummary {
  readonly run: string;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly preset: string | undefined;
  readonly dataset: string | undefined;
  readonly failedPhase: string | undefined;
  /** Every phase, in graph order. */
  readonly phases: ReadonlyArray<{
    readonly id: string;
    readonly status: PhaseStatus;
    readonly attempts: number;
    readonly cacheHit: boolean;
  }>;
}

/** The summary of a run record and its reduced state. */
export function summarizeRun(record: RunRecord, state: RunState): RunSummary {
  return {
    run: record.run,
    status: state.status,
    createdAt: record.createdAt,
    preset: record.spec.preset,
    dataset: record.spec.dataset.name,
    failedPhase: state.failedPhase,
    phases: [...state.phases.values()],
  };
}

/** The last line of a run: its status, per-phase attempts and cache hits, the wall time. */
export function runLine(run: RunSummary, seconds?: number): Record<string, unknown> {
  const { phases } = run;
  return {
    type: 'run',
    run: run.run,
    status: run.status,
    ...(run.failedPhase !== undefined ? { failedPhase: run.failedPhase } : {}),
    cacheHits: phases.filter((p) => p.status === PhaseStatus.Succeeded && p.cacheHit).length,
    ran: phases.filter((p) => p.status === PhaseStatus.Succeeded && !p.cacheHit).length,
    phases: Object.fromEntries(
      phases.map((p) => [p.id, { status: p.status, attempts: p.attempts, cacheHit: p.cacheHit }]),
    ),
    ...(seconds !== undefined ? { seconds: Number(seconds.toFixed(3)) } : {}),
  };
}

/** A run's line in `kzr run list`: status, when created, preset, dataset, phases succeeded (and how many from the cache) of all. */
export function runListLine(run: RunSummary): Record<string, unknown> {
  const succeeded = run.phases.filter((p) => p.status === PhaseStatus.Succeeded);
  return {
    run: run.run,
    status: run.status,
    createdAt: run.createdAt,
    preset: run.preset,
    dataset: run.dataset,
    phases: run.phases.length,
    succeeded: succeeded.length,
    cacheHits: succeeded.filter((p) => p.cacheHit).length,
    ...(run.failedPhase !== undefined ? { failedPhase: run.failedPhase } : {}),
  };
}
