/**
 * The controller in the foreground (`kzr run start`, `kzr run resume`): drives a run to its end
 * on the opened adapters, printing a JSON line per change of a phase's state (with `--watch`, the
 * phases' own lines from their local Jobs' logs too) and the `run` line last. Ctrl-C (SIGINT) or
 * SIGTERM cancels the run: its Jobs are stopped and it ends `cancelled`.
 */
import type { Adapters } from '@kzr/platform';
import type { Logger } from '@kzr/platform';
import { driveRun, runLine, summarizeRun } from '@kzr/trainer';

import { printJson } from '../args.js';
import type { EmbeddedConfig } from '../config.js';
import { followJobLogs } from './job-logs.js';

/** Options of {@link controlRun}. */
export interface ControlRunOptions {
  readonly config: EmbeddedConfig;
  readonly adapters: Adapters;
  readonly logger: Logger;
  readonly run: string;
  /** Also print the phases' progress lines (local Jobs only). */
  readonly watch: boolean;
  /** When the command started (`performance.now()`), for the `run` line's `seconds`. */
  readonly started: number;
}

/** Drives `run` to its end; resolves with the exit code: 0 when it succeeded, 1 otherwise. */
export async function controlRun(o: ControlRunOptions): Promise<number> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const jobs = o.config.adapters.jobs;
  const follow = o.watch && jobs.kind === 'local' ? followJobLogs(jobs.logDir) : undefined;
  try {
    const { record, state } = await driveRun({
      store: o.adapters.store,
      jobs: o.adapters.jobs,
      run: o.run,
      logger: o.logger,
      signal: abort.signal,
      onPhase: (line) => {
        printJson(line);
        if (line.status === 'running') follow?.add(line.phase, line.attempt, o.run);
      },
    });
    await follow?.close();
    printJson(runLine(summarizeRun(record, state), (performance.now() - o.started) / 1000));
    return state.status === 'succeeded' ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await follow?.close();
  }
}
