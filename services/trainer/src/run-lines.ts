/**
 * The JSON lines `kzr run start` and `kzr run watch` print: one per phase whose state changed,
 * and one for the run when it ends. Both derive them from reduced run states, so the controller
 * and a watcher in another process print the same lines for the same records.
 */
import { PhaseStatus, type RunRecord, type RunState } from '@kzr/pipeline';

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

/** The last line of a run: its status, per-phase attempts and cache hits, the wall time. */
export function runLine(record: RunRecord, state: RunState, seconds?: number): Record<string, unknown> {
  const phases = [...state.phases.values()];
  return {
    type: 'run',
    run: record.run,
    status: state.status,
    ...(state.failedPhase !== undefined ? { failedPhase: state.failedPhase } : {}),
    cacheHits: phases.filter((p) => p.status === PhaseStatus.Succeeded && p.cacheHit).length,
    ran: phases.filter((p) => p.status === PhaseStatus.Succeeded && !p.cacheHit).length,
    phases: Object.fromEntries(
      phases.map((p) => [p.id, { status: p.status, attempts: p.attempts, cacheHit: p.cacheHit }]),
    ),
    ...(seconds !== undefined ? { seconds: Number(seconds.toFixed(3)) } : {}),
  };
}
