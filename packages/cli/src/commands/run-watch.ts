/**
 * `kzr run watch <run>`: follows a run from any process by reading its `run.json` (the controller
 * rewrites it after each change): one JSON line per change of a phase's state, the same lines
 * `kzr run start` prints, then the `run` line when the run is final.
 */
import { readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState, type RunState } from '@kzr/pipeline';
import { openStore } from '@kzr/platform';
import { phaseLines, runLine } from '@kzr/trainer';

import { parseCommand, printJson, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { usage } from './run-watch.usage.js';

/** How often the record is read again. */
const pollMs = 300;

/** Runs the command; exit 0 when the run succeeded, 1 when it failed or was cancelled. */
export async function run(args: string[]): Promise<number> {
  const { positionals } = parseCommand(usage, args);
  if (positionals.length !== 1) throw new UsageError('<run>', `expected one run, got ${positionals.length}`);
  const name = positionals[0]!;
  const store = await openStore(compileEmbeddedConfig(process.env).adapters.store);
  try {
    let prev: RunState | undefined;
    for (;;) {
      const record = await readRunRecord(store, name);
      const state = reduceRunState(buildPhaseGraph(record.spec), record.events);
      for (const line of phaseLines(prev, state)) printJson(line);
      prev = state;
      if (isFinalRunStatus(state.status)) {
        printJson(runLine(record, state));
        return state.status === 'succeeded' ? 0 : 1;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await store.close();
  }
}
