/**
 * `kzr run watch <run>`: follows a run from any process by reading its `run.json` (the controller
 * rewrites it after each change): one JSON line per change of a phase's state, the same lines
 * `kzr run start` prints, then the `run` line when the run is final.
 */
import { openStore } from '@kzr/platform';

import { parseCommand, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { followRun } from '../runs/follow.js';
import { usage } from './run-watch.usage.js';

/** Runs the command; exit 0 when the run succeeded, 1 when it failed or was cancelled. */
export async function run(args: string[]): Promise<number> {
  const { positionals } = parseCommand(usage, args);
  if (positionals.length !== 1) throw new UsageError('<run>', `expected one run, got ${positionals.length}`);
  const store = await openStore(compileEmbeddedConfig(process.env).adapters.store);
  try {
    return await followRun(store, positionals[0]!);
  } finally {
    await store.close();
  }
}
