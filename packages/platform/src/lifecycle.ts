/**
 * The process lifecycle: starting -> running -> draining -> stopped (or failed). A drain runs
 * the registered steps phase by phase, in the order STYLE §10 fixes: health reports NOT_SERVING,
 * Bus intake stops, the gRPC servers finish their calls, then the resources those calls used are
 * released. SIGINT and SIGTERM start the drain ({@link drainOnSignal}).
 */
import type { Logger } from './logger.js';

export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** Something that drains within a grace period, in ms. */
export type DrainStep = (graceMs: number) => Promise<void> | void;

/**
 * When a drain step runs; phases run in this order, the steps of one phase in the order they
 * were registered.
 */
export const DrainPhase = {
  /** Health reports NOT_SERVING, so load balancers stop sending calls. */
  Health: 'health',
  /** No new work is taken from the Bus: workers, hot-swap subscriptions, other consumers. */
  Intake: 'intake',
  /** The gRPC servers refuse new calls and let running ones finish (then cut them after the grace). */
  Calls: 'calls',
  /** What the calls used is released: batchers, loaded models, worker pools. */
  Resources: 'resources',
} as const;
export type DrainPhase = (typeof DrainPhase)[keyof typeof DrainPhase];

const phaseOrder: readonly DrainPhase[] = Object.values(DrainPhase);

export class Lifecycle {
  #state: LifecycleState = 'starting';
  readonly #steps: Array<{ phase: DrainPhase; name: string; step: DrainStep }> = [];
  readonly #graceMs: number;
  readonly #logger: Logger;
  #drained: Promise<void> | undefined;

  constructor(options: { graceMs: number; logger: Logger }) {
    this.#graceMs = options.graceMs;
    this.#logger = options.logger;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Registers a step to run in `phase` of the drain. */
  onDrain(phase: DrainPhase, name: string, step: DrainStep): void {
    this.#steps.push({ phase, name, step });
  }

  /** Marks start-up complete. */
  running(): void {
    if (this.#state === 'starting') this.#state = 'running';
  }

  /**
   * Runs every registered step, phase by phase; idempotent (returns the same promise). A step
   * that throws moves the lifecycle to `failed`, the others still run.
   */
  drain(reason: string): Promise<void> {
    this.#drained ??= (async () => {
      this.#state = 'draining';
      this.#logger.info('draining', { reason, graceMs: this.#graceMs });
      let failed = false;
      for (const phase of phaseOrder) {
        for (const { name, step } of this.#steps.filter((s) => s.phase === phase)) {
          try {
            await step(this.#graceMs);
          } catch (err) {
            failed = true;
            this.#logger.error('drain step failed', { phase, step: name, err });
          }
        }
      }
      this.#state = failed ? 'failed' : 'stopped';
      this.#logger.info('stopped', { state: this.#state });
    })();
    return this.#drained;
  }
}

/**
 * Calls `drain` on the first SIGINT or SIGTERM and resolves once it is done. Later signals are
 * ignored: with Ctrl-C under `npm start` the process gets SIGINT twice (from the terminal and
 * from npm), and the grace deadline already bounds the drain.
 */
export function drainOnSignal(drain: (signal: NodeJS.Signals) => Promise<void>, logger: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    let draining = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (draining) {
        logger.debug('signal ignored while draining', { signal });
        return;
      }
      draining = true;
      drain(signal)
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        })
        .then(resolve, reject);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
