/**
 * `kzr run watch <run>`: follows a run, through the trainer (WatchRun, then GetRun) when one is
 * reachable, else from any process by reading its `run.json` (the controller rewrites it after
 * each change): one JSON line per change of a phase's state, the same lines `kzr run start`
 * prints (from the trainer, without `retryable` and `checkpointEpoch`), then the `run` line when
 * the run is final.
 */
import { isFinalRunStatus, RunStatus } from '@kzr/pipeline';
import { openStore } from '@kzr/platform';
import { phaseLineFromWire, runLine, runSummaryFromWire } from '@kzr/trainer';

import { parseCommand, printJson, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { followRun } from '../runs/follow.js';
import { connectTrainer } from '../trainer-client.js';
import { usage } from './run-watch.usage.js';

/** Runs the command; exit 0 when the run succeeded, 1 when it failed or was cancelled. */
export async function run(args: string[]): Promise<number> {
  const { positionals } = parseCommand(usage, args);
  if (positionals.length !== 1) throw new UsageError('<run>', `expected one run, got ${positionals.length}`);
  const name = positionals[0]!;
  const config = compileEmbeddedConfig(process.env);
  const trainer = await connectTrainer(process.env, config.dataDir);
  if (trainer !== undefined) {
    try {
      for await (const status of trainer.watchRun({ runId: name })) printJson(phaseLineFromWire(status));
      const summary = runSummaryFromWire(await trainer.getRun({ runId: name }));
      // The stream ends when the run is final; a trainer draining ends it early.
      if (!isFinalRunStatus(summary.status)) throw new Error(`the trainer at ${trainer.endpoint} stopped the watch`);
      printJson(runLine(summary));
      return summary.status === RunStatus.Succeeded ? 0 : 1;
    } finally {
      trainer.close();
    }
  }
  const store = await openStore(config.adapters.store);
  try {
    return await followRun(store, name);
  } finally {
    await store.close();
  }
}
