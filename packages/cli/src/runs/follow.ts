/**
 * Following a run from any process by reading its `run.json` (its controller rewrites it after
 * each change): one JSON line per change of a phase's state, the same lines the controller in the
 * foreground prints, then the `run` line when the run is final. `kzr run watch`, and `kzr run
 * start` when the trainer drives the run.
 */
import { readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState, type RunState } from '@kzr/pipeline';
import type { Store } from '@kzr/platform';
import { phaseLines, runLine, summarizeRun } from '@kzr/trainer';

import { printJson } from '../args.js';

/** How often the record is read again. */
const pollMs = 300;

/** Prints the run's lines until it is final; resolves with the exit code: 0 when it succeeded, 1 otherwise. */
export async function followRun(store: Store, run: string, started?: number): Promise<number> {
  let prev: RunState | undefined;
  for (;;) {
    const record = await readRunRecord(store, run);
    const state = reduceRunState(buildPhaseGraph(record.spec), record.events);
    for (const line of phaseLines(prev, state)) printJson(line);
    prev = state;
    if (isFinalRunStatus(state.status)) {
      printJson(
        runLine(summarizeRun(record, state), started === undefined ? undefined : (performance.now() - started) / 1000),
      );
      return state.status === 'succeeded' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
