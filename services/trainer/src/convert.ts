/**
 * Runs on the wire: a run record and its reduced state as `kzr.v1.Run` and `kzr.v1.PhaseStatus`
 * (what GetRun, ListRuns and WatchRun answer and the `kzr.phase.*` events carry).
 */
import {
  Phase,
  PhaseState as WirePhaseState,
  type PhaseStatus as WirePhaseStatus,
  type RunSpec as WireRunSpec,
} from '@kzr/api/kzr/v1/common';
import type { Run } from '@kzr/api/kzr/v1/trainer';
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
  reduceRunState,
} from '@kzr/pipeline';

import type { PhaseLine } from './run-lines.js';

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
  };
}
