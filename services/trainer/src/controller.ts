/**
 * The run controller: drives one run to its end. It is the one writer of `runs/<run>/run.json`
 * (DESIGN.md "Runs") and holds no other state: each turn it reduces the records to the run's
 * state, looks the ready phases' input hashes up in the cache, asks the planner, records what it
 * does (a cache hit as `completed`, a start as `started` before its Job exists, a cancel as
 * `cancelled`) and runs each started phase as a Job (`kzr phase run`) through the JobRunner.
 * When a Job ends it records `completed` from the phase's cache entry, or `failed` with the
 * failure report the attempt left (none: it was killed, a retryable failure), after a
 * `checkpoint` record when a training got that far, so that the planner's retry resumes.
 *
 * Cancelling: `kzr run cancel` writes `runs/<run>/cancel.json`; the controller polls for it
 * while phases run, records `cancel-requested` and cancels the Jobs still running. Aborting
 * `signal` (Ctrl-C on `kzr run start`) does the same.
 *
 * Restarted on a run whose records say a phase runs (the trainer restarted, `kzr run resume`),
 * it adopts that phase's Job when the JobRunner still has it (a Kubernetes Job outlives the
 * controller): a running one is waited on like its own, an ended one settled by how it ended.
 * A Job the runner does not know is settled the same way: its cache entry completes the phase,
 * anything else is a retryable failure (the Job vanished), never "running forever".
 *
 * Aborting `stop` (the trainer drains) ends the driving without cancelling anything: the Jobs
 * run on and the run's next controller adopts them.
 */
import { createHash } from 'node:crypto';

import {
  lookupPhaseCache,
  readPhaseCacheEntry,
  readRunCancelRequest,
  readRunRecord,
  writeRunRecord,
} from '@kzr/artifacts';
import {
  applyRunEvent,
  buildPhaseGraph,
  isFinalRunStatus,
  modelPhaseNames,
  type PhaseGraph,
  type PhaseId,
  PhaseStatus,
  planRun,
  readyPhases,
  reduceRunState,
  type RunEvent,
  type RunRecord,
  type RunState,
  type StartAction,
} from '@kzr/pipeline';
import {
  JobPhase,
  type JobRunner,
  type JobStatus,
  type Logger,
  NotFoundError,
  runLabel,
  type Store,
} from '@kzr/platform';

import { checkpointEpoch, readFailureReport } from './attempt-report.js';
import { kzrBin } from './paths.js';
import { type PhaseLine, phaseLines } from './run-lines.js';

/** Options of {@link driveRun}. */
export interface DriveRunOptions {
  readonly store: Store;
  readonly jobs: JobRunner;
  readonly run: string;
  readonly logger: Logger;
  /**
   * What a phase Job runs, before `phase run --run ...`.
   * @default this node with the production condition and `packages/cli/bin/kzr.js` ({@link kzrBin})
   */
  readonly command?: readonly string[];
  /** Container image of the Jobs (the Kubernetes runner's; the local runner ignores it). @default 'kzr' */
  readonly image?: string;
  /** Environment added to every Job's. */
  readonly env?: Readonly<Record<string, string>>;
  /** How often to look for a cancel request while phases run. @default 250 */
  readonly pollMs?: number;
  /** Aborting it cancels the run. */
  readonly signal?: AbortSignal;
  /** Aborting it stops driving the run, leaving its Jobs running for the next controller to adopt. */
  readonly stop?: AbortSignal;
  /** Called with each phase's change of state, after it is recorded (awaited, in order). */
  readonly onPhase?: (line: PhaseLine) => void | Promise<void>;
}

/** How a run ended. */
export interface DrivenRun {
  readonly record: RunRecord;
  readonly state: RunState;
}

interface RunningAttempt {
  readonly phase: PhaseId;
  readonly attempt: number;
  readonly inputHash: string;
  readonly job: string;
  readonly done: Promise<JobStatus>;
}

/** A DNS-1123 Job name for an attempt of a phase (63 characters at most; a hash keeps long ones unique). */
export function phaseJobName(run: string, phase: PhaseId, attempt: number): string {
  const name = `${run}-${phase}-a${attempt}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 50).replace(/-+$/, '')}-${hash}-a${attempt}`.slice(0, 63);
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Drives the run `o.run` (its `run.json` exists) until its status is final (see the module comment). */
export async function driveRun(o: DriveRunOptions): Promise<DrivenRun> {
  const { store, jobs, run } = o;
  const created = await readRunRecord(store, run);
  const graph: PhaseGraph = buildPhaseGraph(created.spec);
  const events: RunEvent[] = [...created.events];
  let state = reduceRunState(graph, events);
  let reported = state;
  let dirty = false;
  const running = new Map<PhaseId, RunningAttempt>();
  const at = (): string => new Date().toISOString();
  const record = (): RunRecord => ({ ...created, events: [...events] });

  const append = (event: RunEvent): void => {
    state = applyRunEvent(graph, state, event);
    events.push(event);
    dirty = true;
  };
  const flush = async (): Promise<void> => {
    if (!dirty) return;
    await writeRunRecord(store, record());
    dirty = false;
    const lines = phaseLines(reported, state);
    reported = state;
    for (const line of lines) await o.onPhase?.(line);
  };

  /** Records how an attempt ended: its Job's status, or none for a Job this controller does not know. */
  const settle = async (phase: PhaseId, attempt: number, inputHash: string, job: JobStatus | undefined) => {
    const node = graph.byId.get(phase)!;
    // The cache entry is written last: with it the phase is complete, whatever became of its Job.
    const entry = await readPhaseCacheEntry(store, node.phase, inputHash);
    if (entry !== undefined) {
      append({
        type: 'completed',
        phase,
        attempt,
        inputHash,
        manifestKey: entry.manifestKey,
        manifestSha256: entry.manifestSha256,
        cacheHit: entry.run !== run,
        at: at(),
      });
      return;
    }
    if (modelPhaseNames.includes(node.phase)) {
      const epoch = await checkpointEpoch(store, run, phase);
      if (epoch !== undefined && epoch > (state.phases.get(phase)?.checkpointEpoch ?? 0)) {
        append({ type: 'checkpoint', phase, attempt, epoch, at: at() });
      }
    }
    const report = await readFailureReport(store, run, phase, attempt);
    const error =
      report?.error ??
      (job === undefined
        ? 'its Job is gone (the controller restarted)'
        : job.phase === JobPhase.Succeeded
          ? 'the Job exited 0 without a cache entry'
          : `the Job failed (${job.reason ?? 'no reason'}) without a failure report: killed?`);
    // A Job that ended 0 without its outputs is a bug a retry repeats; one that left no report was killed.
    const retryable = report?.retryable ?? job?.phase !== JobPhase.Succeeded;
    append({ type: 'failed', phase, attempt, retryable, error, at: at() });
  };

  const launch = async (action: StartAction): Promise<void> => {
    const node = graph.byId.get(action.phase)!;
    const job = phaseJobName(run, action.phase, action.attempt);
    const args = [
      'phase',
      'run',
      '--run',
      run,
      '--phase',
      node.phase,
      ...(node.model === undefined ? [] : ['--model', node.model]),
      '--attempt',
      String(action.attempt),
      ...(action.resume ? ['--resume'] : []),
    ];
    try {
      await jobs.run({
        name: job,
        image: o.image ?? 'kzr',
        command: [...(o.command ?? [process.execPath, '--conditions=production', kzrBin])],
        args,
        ...(o.env !== undefined ? { env: o.env } : {}),
        labels: { [runLabel]: run, 'kzr.io/phase': node.phase },
        // GPUs go to the model phases (trainings, refinements) only, when the spec asks for them.
        resources: { gpu: graph.spec.execution.gpu && modelPhaseNames.includes(node.phase) ? 1 : 0 },
      });
    } catch (err) {
      o.logger.error('could not start the Job', { run, phase: action.phase, err });
      append({
        type: 'failed',
        phase: action.phase,
        attempt: action.attempt,
        retryable: true,
        error: String(err),
        at: at(),
      });
      return;
    }
    follow(action.phase, action.attempt, action.inputHash, job);
  };

  const follow = (phase: PhaseId, attempt: number, inputHash: string, job: string): void => {
    const done = jobs.wait(job);
    done.catch(() => undefined);
    running.set(phase, { phase, attempt, inputHash, job, done });
  };

  // Phases recorded running when this controller took the run over: adopt their Jobs.
  for (const p of state.phases.values()) {
    if (p.status !== PhaseStatus.Running) continue;
    const job = phaseJobName(run, p.id, p.attempts);
    const status = await jobs.status(job).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (status !== undefined && status.phase !== JobPhase.Succeeded && status.phase !== JobPhase.Failed) {
      o.logger.info('adopted a running Job', { run, phase: p.id, job });
      follow(p.id, p.attempts, p.inputHash!, job);
    } else {
      await settle(p.id, p.attempts, p.inputHash!, status);
    }
  }
  await flush();

  // Either signal ends a wait for the next turn.
  const wake = o.stop && o.signal ? AbortSignal.any([o.stop, o.signal]) : (o.stop ?? o.signal);
  for (;;) {
    if (o.stop?.aborted) break;
    if (!state.cancelRequested && !isFinalRunStatus(state.status)) {
      const asked = o.signal?.aborted ? { reason: 'interrupted' } : await readRunCancelRequest(store, run);
      if (asked !== undefined) append({ type: 'cancel-requested', reason: asked.reason, at: at() });
    }
    const ready = readyPhases(graph, state, created.external);
    const plan = planRun(graph, state, { external: created.external, cache: await lookupPhaseCache(store, ready) });
    const starts: StartAction[] = [];
    for (const action of plan.actions) {
      if (action.type === 'skip') {
        const { manifestKey, manifestSha256 } = action.cached;
        append({
          type: 'completed',
          phase: action.phase,
          attempt: action.attempt,
          inputHash: action.inputHash,
          manifestKey,
          manifestSha256,
          cacheHit: true,
          at: at(),
        });
      } else if (action.type === 'start') {
        append({
          type: 'started',
          phase: action.phase,
          attempt: action.attempt,
          inputHash: action.inputHash,
          resume: action.resume,
          at: at(),
        });
        starts.push(action);
      } else {
        const attempt = running.get(action.phase);
        running.delete(action.phase);
        if (attempt !== undefined) await jobs.cancel(attempt.job).catch(() => undefined);
        append({ type: 'cancelled', phase: action.phase, attempt: action.attempt, at: at() });
      }
    }
    // Recorded first: no Job runs without its `started` record.
    await flush();
    for (const action of starts) await launch(action);
    await flush();
    if (plan.actions.length > 0) continue;
    if (isFinalRunStatus(state.status) && running.size === 0) break;
    if (running.size === 0) {
      throw new Error(`run ${run} is ${state.status} with nothing running and nothing to start (a planner bug)`);
    }
    const ended = await Promise.race([
      ...[...running.values()].map((attempt) => attempt.done.then((status) => ({ attempt, status }))),
      delay(o.pollMs ?? 250, wake).then(() => undefined),
    ]);
    if (ended !== undefined) {
      running.delete(ended.attempt.phase);
      await settle(ended.attempt.phase, ended.attempt.attempt, ended.attempt.inputHash, ended.status);
      await flush();
    }
  }
  return { record: record(), state };
}
