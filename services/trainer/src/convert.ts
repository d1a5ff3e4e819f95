/**
 * Runs on the wire: a run record and its reduced state as `kzr.v1.Run` and `kzr.v1.PhaseStatus`
 * (what GetRun, ListRuns and WatchRun answer and the `kzr.phase.*` events carry), and back into
 * the lines `kzr run watch|list` print when they ask the trainer.
 */
import {
  Phase,
  PhaseState as WirePhaseState,
  type PhaseStatus as WirePhaseStatus,
  type RunSpec as WireRunSpec,
} from '@kzr/api/kzr/v1/common';
import { type Run, RunState as WireRunState } from '@kzr/api/kzr/v1/trainer';
import {
  buildPhaseGraph,
  parsePhaseId,
  type PhaseId,
  PhaseName,
  type PhaseState,
  PhaseStatus,
  type RunRecord,
  type RunSpec,
  type RunState,
  RunStatus,
  reduceRunState,
} from '@kzr/pipeline';

import type { PhaseLine, RunSummary } from './run-lines.js';

const wirePhase: Readonly<Record<PhaseName, Phase>> = {
  [PhaseName.Preprocess]: Phase.PHASE_PREPROCESS,
  [PhaseName.Split]: Phase.PHASE_SPLIT,
  [PhaseName.FirstTrain]: Phase.PHASE_FIRST_TRAIN,
  [PhaseName.FirstInfer]: Phase.PHASE_FIRST_INFER,
  [PhaseName.FirstFilter]: Phase.PHASE_FIRST_FILTER,
  [PhaseName.PseudoLabel]: Phase.PHASE_PSEUDO_LABEL,
  [PhaseName.SecondTrain]: Phase.PHASE_SECOND_TRAIN,
  [PhaseName.Refine]: Phase.PHASE_REFINE,
  [PhaseName.FinalInfer]: Phase.PHASE_FINAL_INFER,
  [PhaseName.Publish]: Phase.PHASE_PUBLISH,
};

const wireStateOf: Readonly<Record<PhaseStatus, WirePhaseState>> = {
  [PhaseStatus.Pending]: WirePhaseState.PHASE_STATE_PENDING,
  [PhaseStatus.Running]: WirePhaseState.PHASE_STATE_RUNNING,
  [PhaseStatus.Succeeded]: WirePhaseState.PHASE_STATE_SUCCEEDED,
  [PhaseStatus.Failed]: WirePhaseState.PHASE_STATE_FAILED,
  [PhaseStatus.Cancelled]: WirePhaseState.PHASE_STATE_CANCELLED,
};

const wireRunState: Readonly<Record<RunStatus, WireRunState>> = {
  [RunStatus.Queued]: WireRunState.RUN_STATE_QUEUED,
  [RunStatus.Running]: WireRunState.RUN_STATE_RUNNING,
  [RunStatus.Succeeded]: WireRunState.RUN_STATE_SUCCEEDED,
  [RunStatus.Failed]: WireRunState.RUN_STATE_FAILED,
  [RunStatus.Cancelled]: WireRunState.RUN_STATE_CANCELLED,
};

/** The inverse of a total mapping to wire enum values. */
function inverse<K extends string, V extends number>(map: Readonly<Record<K, V>>): ReadonlyMap<V, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as V, k as K]));
}
const phaseOfWire = inverse(wirePhase);
const statusOfWire = inverse(wireStateOf);
const runStatusOfWire = inverse(wireRunState);

/** When each phase last started and last ended, from the records. */
function phaseTimes(record: RunRecord): Map<PhaseId, { startedAt: string; finishedAt: string }> {
  const times = new Map<PhaseId, { startedAt: string; finishedAt: string }>();
  for (const event of record.events) {
    if (event.type === 'cancel-requested' || event.type === 'checkpoint') continue;
    const t = times.get(event.phase) ?? { startedAt: '', finishedAt: '' };
    if (event.type === 'started') times.set(event.phase, { startedAt: event.at, finishedAt: '' });
    else times.set(event.phase, { startedAt: t.startedAt || event.at, finishedAt: event.at });
  }
  return times;
}

/** One phase's status on the wire. */
export function phaseStatusToWire(
  run: string,
  p: PhaseState,
  times?: { startedAt: string; finishedAt: string },
): WirePhaseStatus {
  const { phase, model } = parsePhaseId(p.id);
  return {
    runId: run,
    phase: wirePhase[phase],
    state: p.status === PhaseStatus.Succeeded && p.cacheHit ? WirePhaseState.PHASE_STATE_CACHED : wireStateOf[p.status],
    modelConfig: model ?? '',
    progress: p.status === PhaseStatus.Succeeded ? 1 : 0,
    message: p.error?.message ?? '',
    startedAt: times?.startedAt ?? '',
    finishedAt: times?.finishedAt ?? '',
    outputKeys: p.manifestKey !== undefined ? [p.manifestKey] : [],
    metrics: {},
    attempt: p.attempts,
  };
}

/** The wire summary of a run spec (the whole spec is in `run.json`). */
export function runSpecToWire(spec: RunSpec): WireRunSpec {
  return {
    dataset: spec.dataset.name ?? '',
    modelConfigs: spec.models.map((m) => m.name),
    valBooks: spec.split.splits.map((s) => s.valBook),
    seed: spec.split.seed,
    phases: [],
    modelSet: spec.publish.modelSet,
    labels: {},
  };
}

/** A run and its reduced state (computed when not given) on the wire. */
export function runToWire(record: RunRecord, state?: RunState): Run {
  const reduced = state ?? reduceRunState(buildPhaseGraph(record.spec), record.events);
  const times = phaseTimes(record);
  return {
    runId: record.run,
    spec: runSpecToWire(record.spec),
    phases: [...reduced.phases.values()].map((p) => phaseStatusToWire(record.run, p, times.get(p.id))),
    createdAt: record.createdAt,
    state: wireRunState[reduced.status],
    preset: record.spec.preset ?? '',
    failedPhase: reduced.failedPhase ?? '',
  };
}

/** A phase's change of state (the controller's {@link PhaseLine}) on the wire, for the `kzr.phase.*` events. */
export function phaseLineToWire(run: string, line: PhaseLine, at: string): WirePhaseStatus {
  const { phase, model } = parsePhaseId(line.phase);
  const running = line.status === PhaseStatus.Running;
  return {
    runId: run,
    phase: wirePhase[phase],
    state:
      line.status === PhaseStatus.Succeeded && line.cacheHit === true
        ? WirePhaseState.PHASE_STATE_CACHED
        : wireStateOf[line.status],
    modelConfig: model ?? '',
    progress: line.status === PhaseStatus.Succeeded ? 1 : 0,
    message: line.error ?? '',
    startedAt: running ? at : '',
    finishedAt: running ? '' : at,
    outputKeys: [],
    metrics: {},
    attempt: line.attempt,
  };
}

/** A phase's id (`<phase>` or `<phase>/<model>`), status and whether it came from the cache, from the wire. */
function phaseFromWire(s: WirePhaseStatus): { id: string; status: PhaseStatus; cacheHit: boolean } {
  const phase = phaseOfWire.get(s.phase);
  const cacheHit = s.state === WirePhaseState.PHASE_STATE_CACHED;
  const status = cacheHit ? PhaseStatus.Succeeded : statusOfWire.get(s.state);
  if (phase === undefined || status === undefined) {
    throw new Error(`phase status ${s.phase}/${s.state} of run ${s.runId} is not one a trainer sends`);
  }
  return { id: s.modelConfig === '' ? phase : `${phase}/${s.modelConfig}`, status, cacheHit };
}

/**
 * The line `kzr run watch` prints for a phase's change of state WatchRun streamed: the one it
 * prints from the records, less `retryable` and `checkpointEpoch`, which the wire does not carry.
 */
export function phaseLineFromWire(s: WirePhaseStatus): PhaseLine {
  const { id, status, cacheHit } = phaseFromWire(s);
  return {
    type: 'phase',
    phase: id,
    status,
    attempt: s.attempt,
    ...(status === PhaseStatus.Succeeded ? { cacheHit } : {}),
    ...(status === PhaseStatus.Failed && s.message !== '' ? { error: s.message } : {}),
  };
}

/** A run from the wire (GetRun, ListRuns) as its lines tell it. */
export function runSummaryFromWire(run: Run): RunSummary {
  const status = runStatusOfWire.get(run.state);
  if (status === undefined) throw new Error(`run ${run.runId}: state ${run.state} is not one a trainer sends`);
  return {
    run: run.runId,
    status,
    createdAt: run.createdAt,
    preset: run.preset === '' ? undefined : run.preset,
    dataset: run.spec?.dataset === '' ? undefined : run.spec?.dataset,
    failedPhase: run.failedPhase === '' ? undefined : run.failedPhase,
    phases: run.phases.map((p) => ({ ...phaseFromWire(p), attempts: p.attempt })),
  };
}
