/**
 * `kzr run list`: the runs in the Store, one JSON line each: name, status, when created, preset,
 * dataset, phases succeeded (and how many from the cache) of all.
 */
import { listRuns, readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, PhaseStatus, reduceRunState } from '@kzr/pipeline';
import { openStore } from '@kzr/platform';

import { parseCommand, printJson } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { usage } from './run-list.usage.js';

/** Runs the command. */
export async function run(args: string[]): Promise<number> {
  parseCommand(usage, args);
  const store = await openStore(compileEmbeddedConfig(process.env).adapters.store);
  try {
    for (const name of await listRuns(store)) {
      const record = await readRunRecord(store, name);
      const state = reduceRunState(buildPhaseGraph(record.spec), record.events);
      const phases = [...state.phases.values()];
      const succeeded = phases.filter((p) => p.status === PhaseStatus.Succeeded);
      printJson({
        run: name,
        status: state.status,
        createdAt: record.createdAt,
        preset: record.spec.preset,
        dataset: record.spec.dataset.name,
        phases: phases.length,
        succeeded: succeeded.length,
        cacheHits: succeeded.filter((p) => p.cacheHit).length,
        ...(state.failedPhase !== undefined ? { failedPhase: state.failedPhase } : {}),
      });
    }
  } finally {
    await store.close();
  }
  return 0;
}
