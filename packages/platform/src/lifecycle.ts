/**
 * The process lifecycle: starting -> running -> draining -> stopped (or failed). SIGINT and
 * SIGTERM start the drain; resources registered with {@link Lifecycle.onDrain} stop in reverse
 * order of registration, each bounded by the grace period.
 */
import type { Logger } from './logger.js';

export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** Something that drains within a grace period. */
export type DrainStep = (graceMs: number) => Promise<void>;

export class Lifecycle {
  #state: LifecycleState = 'starting';
  readonly #steps: Array<{ name: string; step: DrainStep }> = [];
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

  /** Registers a resource to stop on drain; later registrations stop first. */
  onDrain(name: string, step: DrainStep): void {
    this.#steps.push({ name, step });
  }

  /** Marks start-up complete. */
  running(): void {
    if (this.#state === 'starting') this.#state = 'running';
  }

  /**
   * Drains every registered resource; idempotent (returns the same promise). A step that throws
   * moves the lifecycle to `failed`, the others still run.
   */
  drain(reason: string): Promise<void> {
    this.#drained ??= (async () => {
      this.#state = 'draining';
      this.#logger.info('draining', { reason, graceMs: this.#graceMs });
      let failed = false;
      for (const { name, step } of [...this.#steps].reverse()) {
        try {
          await step(this.#graceMs);
        } catch (err) {
          failed = true;
          this.#logger.error('drain step failed', { step: name, err });
        }
      }
      this.#state = failed ? 'failed' : 'stopped';
      this.#logger.info('stopped', { state: this.#state });
    })();
    return this.#drained;
  }

  /**
   * Drains on the first SIGINT or SIGTERM and resolves when stopped. Later signals are ignored:
   * with Ctrl-C under `npm start` the process gets SIGINT twice (from the terminal and from npm),
   * and the grace deadline already bounds the drain.
   */
  untilSignal(): Promise<void> {
    return new Promise((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        if (this.#drained) {
          this.#logger.debug('signal ignored while draining', { signal });
          return;
        }
        void this.drain(signal).then(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  }
}
