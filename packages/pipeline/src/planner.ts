/**
 * The planner: from a run's phase graph, its state and what the cache holds, the next things to
 * do. It decides, the caller acts (creates or deletes Jobs, records what happened in
 * `run.json`) and asks again, until the run's status is final.
 *
 * - A phase is ready when every phase it reads has succeeded; its input hash is then known
 *   ({@link readyPhases}). The caller looks those hashes up in the cache.
 * - A ready phase whose hash is in the cache is skipped: its outputs are the cached manifest.
 * - Otherwise it starts, with its attempt number; an attempt after a recorded checkpoint
 *   resumes from it.
 * - A failed phase is retried while its failure is retryable and `execution.retryLimit`
 *   retries remain; past that the run has failed.
 * - At most `execution.parallelism` model phases (trainings, refinements) run at once.
 * - `publish` starts last, when every other phase has succeeded.
 * - A failed or cancelled run starts nothing and cancels what still runs.
 */
import { RunSpecError } from './errors.js';
import { phaseInputHash } from './input-hash.js';
import { modelPhaseNames, PhaseName, type PhaseGraph, type PhaseId, type PhaseNode } from './phase-graph.js';
import { canRetry, isFinalRunStatus, PhaseStatus, RunStatus, type RunState } from './run-state.js';

/** What the cache holds for an input hash: the manifest of a finished phase with those inputs. */
export interface CachedPhase {
  readonly manifestKey: string;
  readonly manifestSha256: string;
}

/** A phase whose inputs are all there. */
export interface ReadyPhase {
  readonly node: PhaseNode;
  readonly inputHash: string;
}

/** Start an attempt of a phase. */
export interface StartAction {
  readonly type: 'start';
  readonly phase: PhaseId;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly inputHash: string;
  /** Resume after the last checkpoint an earlier attempt recorded. */
  readonly resume: boolean;
}

/** Record a phase as complete from the cache, without running it. */
export interface SkipAction {
  readonly type: 'skip';
  readonly phase: PhaseId;
  /** The attempts made so far (the completion record's attempt). */
  readonly attempt: number;
  readonly inputHash: string;
  readonly cached: CachedPhase;
}

/** Stop a running phase (its Job) and record it cancelled. */
export interface CancelAction {
  readonly type: 'cancel';
  readonly phase: PhaseId;
  readonly attempt: number;
  readonly reason: 'run-cancelled' | 'run-failed';
}

/** One decision of the planner. */
export type PlanAction = StartAction | SkipAction | CancelAction;

/** What to do next. */
export interface RunPlan {
  /** The run's status (the state's). */
  readonly status: RunStatus;
  /** In graph order; empty when there is nothing to do until a running phase ends. */
  readonly actions: readonly PlanAction[];
  /** Ready phases held back by `execution.parallelism`. */
  readonly waiting: readonly PhaseId[];
}

/** Inputs of {@link planRun} beyond the graph and the state. */
export interface PlanOptions {
  /** sha256 of each external input (the run record's `external`). */
  readonly external: Readonly<Record<string, string>>;
  /** Cache entries found for the input hashes of {@link readyPhases}, by input hash. */
  readonly cache: ReadonlyMap<string, CachedPhase>;
}

/**
 * The phases that could run now: not succeeded and not running (pending, or stopped with a retry
 * left), every phase they read succeeded, with their input hashes. `publish` only once every
 * other phase has succeeded. In graph order.
 */
export function readyPhases(
  graph: PhaseGraph,
  state: RunState,
  external: Readonly<Record<string, string>>,
): ReadyPhase[] {
  if (isFinalRunStatus(state.status)) return [];
  const { retryLimit } = graph.spec.execution;
  const ready: ReadyPhase[] = [];
  for (const node of graph.phases) {
    const phase = state.phases.get(node.id);
    if (phase === undefined) throw new RunSpecError('graph', `the state has no phase ${node.id}`);
    if (phase.status !== PhaseStatus.Pending && !canRetry(phase, retryLimit)) continue;
    const succeeded = (id: PhaseId): boolean => state.phases.get(id)?.status === PhaseStatus.Succeeded;
    if (!node.dependsOn.every(succeeded)) continue;
    if (node.phase === PhaseName.Publish && !graph.phases.every((p) => p.id === node.id || succeeded(p.id))) continue;
    const inputs: Record<string, string> = {};
    for (const id of node.dependsOn) inputs[id] = state.phases.get(id)?.manifestSha256 ?? '';
    for (const name of node.externalInputs) inputs[name] = external[name] ?? '';
    ready.push({ node, inputHash: phaseInputHash(graph.spec, node, inputs) });
  }
  return ready;
}

/** Decides the next actions of a run (see the module comment). */
export function planRun(graph: PhaseGraph, state: RunState, options: PlanOptions): RunPlan {
  if (state.status === RunStatus.Failed || state.status === RunStatus.Cancelled) {
    const reason = state.status === RunStatus.Failed ? 'run-failed' : 'run-cancelled';
    const actions = graph.phases
      .map((node) => state.phases.get(node.id))
      .filter((p) => p?.status === PhaseStatus.Running)
      .map((p): CancelAction => ({ type: 'cancel', phase: p!.id, attempt: p!.attempts, reason }));
    return { status: state.status, actions, waiting: [] };
  }
  const isModelPhase = (node: PhaseNode | undefined): boolean =>
    node !== undefined && modelPhaseNames.includes(node.phase);
  let modelSlots =
    graph.spec.execution.parallelism -
    [...state.phases.values()].filter((p) => p.status === PhaseStatus.Running && isModelPhase(graph.byId.get(p.id)))
      .length;
  const actions: PlanAction[] = [];
  const waiting: PhaseId[] = [];
  for (const { node, inputHash } of readyPhases(graph, state, options.external)) {
    const phase = state.phases.get(node.id)!;
    const cached = options.cache.get(inputHash);
    if (cached !== undefined) {
      actions.push({ type: 'skip', phase: node.id, attempt: phase.attempts, inputHash, cached });
      continue;
    }
    if (isModelPhase(node)) {
      if (modelSlots <= 0) {
        waiting.push(node.id);
        continue;
      }
      modelSlots--;
    }
    actions.push({
      type: 'start',
      phase: node.id,
      attempt: phase.attempts + 1,
      inputHash,
      resume: phase.attempts > 0 && phase.checkpointEpoch !== undefined,
    });
  }
  return { status: state.status, actions, waiting };
}
