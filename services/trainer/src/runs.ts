/**
 * The runs a trainer drives. It keeps no state of its own: the Store's `runs/<run>/run.json` are
 * the runs, so at start it drives again every run whose status is not final (its controller
 * adopts the Jobs still running), and a request for a run that exists (the same request id
 * again) drives that run instead of creating another. Each run is driven in the background by
 * the run controller; its phase changes go out as `kzr.phase.started`, `kzr.phase.completed`
 * (a cache hit too) and `kzr.phase.failed`. Closing stops the driving and leaves the Jobs
 * running for the next trainer.
 */
import { listRuns, readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, isFinalRunStatus, PhaseStatus, reduceRunState } from '@kzr/pipeline';
import { type Bus, ConflictError, EventSubject, type JobRunner, type Logger, type Store } from '@kzr/platform';

import { driveRun } from './controller.js';
import { phaseLineToWire } from './convert.js';
import { createRun, findRunRecord } from './run-create.js';
import { type PhaseLine, phaseLines } from './run-lines.js';
import { datasetOfRequest, type RunRequest, runSpecOfRequest } from './run-request.js';

/** Options of {@link TrainerRuns}. */
export interface TrainerRunsOptions {
  readonly store: Store;
  readonly bus: Bus;
  readonly jobs: JobRunner;
  readonly logger: Logger;
  /** What a phase Job runs before `phase run ...`. */
  readonly jobCommand: readonly string[];
  readonly jobImage: string;
  readonly jobEnv: Readonly<Record<string, string>>;
  /** How often a driven run looks for a cancel request. */
  readonly pollMs: number;
  /** Delay before a run whose driving threw (the Store was unreachable) is driven again. @default 5000 */
  readonly retryMs?: number;
}

/** What {@link TrainerRuns.request} did. */
export interface RequestedRun {
  readonly run: string;
  /** False when the run existed already (the same request again). */
  readonly created: boolean;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The runs this trainer drives (see the module comment). */
export class TrainerRuns {
  readonly #o: TrainerRunsOptions;
  readonly #driving = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();

  constructor(options: TrainerRunsOptions) {
    this.#o = options;
  }

  /** Runs being driven now, by name. */
  get driving(): string[] {
    return [...this.#driving.keys()];
  }

  /**
   * Creates run `run` for `request` unless it exists, then drives it in the background; resolves
   * once its `run.json` is written. A bad request is a ValidationError naming its field.
   */
  async request(request: RunRequest, run: string): Promise<RequestedRun> {
    const { store } = this.#o;
    let created = false;
    if ((await findRunRecord(store, run)) === undefined) {
      const spec = await runSpecOfRequest(request);
      const dataset = await datasetOfRequest(store, request, spec);
      try {
        await createRun(store, run, spec, dataset);
        created = true;
      } catch (err) {
        // Another replica created it between the look and the write: the same run.
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    this.drive(run);
    return { run, created };
  }

  /** Drives `run` in the background unless it is driven already, final, or the trainer is closing. */
  drive(run: string): void {
    if (this.#driving.has(run) || this.#stop.signal.aborted) return;
    const driving = this.#drive(run).finally(() => this.#driving.delete(run));
    this.#driving.set(run, driving);
  }

  /** Drives every run in the Store whose status is not final; resolves with their names. */
  async resumeUnfinished(): Promise<string[]> {
    const resumed: string[] = [];
    for (const run of await listRuns(this.#o.store)) {
      const record = await readRunRecord(this.#o.store, run);
      if (isFinalRunStatus(reduceRunState(buildPhaseGraph(record.spec), record.events).status)) continue;
      this.drive(run);
      resumed.push(run);
    }
    return resumed;
  }

  /** Resolves when `run` is no longer driven here (at once when it is not). */
  async settled(run: string): Promise<void> {
    await this.#driving.get(run);
  }

  /** Stops driving every run, leaving their Jobs running; resolves once each controller returned. */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#driving.values());
  }

  async #drive(run: string): Promise<void> {
    const o = this.#o;
    const stop = this.#stop.signal;
    // Beside the driving: a publish waits while the Bus is down.
    void this.#announceRecorded(run);
    while (!stop.aborted) {
      try {
        const { state } = await driveRun({
          store: o.store,
          jobs: o.jobs,
          run,
          logger: o.logger,
          command: o.jobCommand,
          image: o.jobImage,
          env: o.jobEnv,
          pollMs: o.pollMs,
          stop,
          onPhase: (line) => this.#announce(run, line),
        });
        if (isFinalRunStatus(state.status)) o.logger.info('run ended', { run, status: state.status });
        return;
      } catch (err) {
        o.logger.error('driving the run failed; trying again', { run, err });
        await delay(o.retryMs ?? 5000, stop);
      }
    }
  }

  /**
   * Publishes each phase's recorded state again when this trainer takes a run over: a trainer
   * killed between writing `run.json` and publishing (or while a publish waited for the Bus) lost
   * that event. The same event id, so the stream drops a copy it already holds.
   */
  async #announceRecorded(run: string): Promise<void> {
    try {
      const record = await readRunRecord(this.#o.store, run);
      const lines = phaseLines(undefined, reduceRunState(buildPhaseGraph(record.spec), record.events));
      for (const line of lines) await this.#announce(run, line);
    } catch (err) {
      this.#o.logger.warn('could not announce the recorded phases again', { run, err });
    }
  }

  /** Publishes a phase's change of state; an event id per attempt and state, so a repeat is dropped. */
  async #announce(run: string, line: PhaseLine): Promise<void> {
    const at = new Date().toISOString();
    const status = phaseLineToWire(run, line, at);
    const id = `phase-${run}-${line.phase.replace('/', '.')}-a${line.attempt}-${line.status}`;
    try {
      if (line.status === PhaseStatus.Running) {
        await this.#o.bus.publish(EventSubject.PhaseStarted, { meta: undefined, status }, { id });
      } else if (line.status === PhaseStatus.Succeeded) {
        await this.#o.bus.publish(EventSubject.PhaseCompleted, { meta: undefined, status }, { id });
      } else if (line.status === PhaseStatus.Failed) {
        await this.#o.bus.publish(
          EventSubject.PhaseFailed,
          { meta: undefined, status, retryable: line.retryable === true },
          { id },
        );
      }
    } catch (err) {
      // The record is the truth; an event lost to a Bus outage is logged, never fatal to the run.
      this.#o.logger.warn('could not publish a phase event', { run, phase: line.phase, err });
    }
  }
}
