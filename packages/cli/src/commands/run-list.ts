/**
 * `kzr run list`: the runs, one JSON line each: name, status, when created, preset, dataset,
 * phases succeeded (and how many from the cache) of all. Through the trainer when one is
 * reachable (ListRuns: the newest 50, newest first), else every run in the Store, by name.
 */
import { listRuns, readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, reduceRunState } from '@kzr/pipeline';
import { openStore } from '@kzr/platform';
import { runListLine, runSummaryFromWire, summarizeRun } from '@kzr/trainer';

import { parseCommand, printJson } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { connectTrainer } from '../trainer-client.js';
import { usage } from './run-list.usage.js';

/** Runs the command. */
export async function run(args: string[]): Promise<number> {
  parseCommand(usage, args);
  const config = compileEmbeddedConfig(process.env);
  const trainer = await connectTrainer(process.env, config.dataDir);
  if (trainer !== undefined) {
    try {
      const { runs } = await trainer.listRuns({ limit: 0 });
      for (const wire of runs) printJson(runListLine(runSummaryFromWire(wire)));
    } finally {
      trainer.close();
    }
    return 0;
  }
  const store = await openStore(config.adapters.store);
  try {
    for (const name of await listRuns(store)) {
      const record = await readRunRecord(store, name);
      printJson(runListLine(summarizeRun(record, reduceRunState(buildPhaseGraph(record.spec), record.events))));
    }
  } finally {
    await store.close();
  }
  return 0;
}
