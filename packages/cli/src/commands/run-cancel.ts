/**
 * `kzr run cancel <run> [--reason <text>]`: asks the run's controller to cancel the run, through
 * the trainer (CancelRun) when one is reachable. Either writes `runs/<run>/cancel.json` and never
 * `run.json`, which only the controller writes; the
 * controller records the request, stops the phases' Jobs (a local Job's whole process group)
 * and ends the run `cancelled`. A run already final is left as it is.
 */
import { readRunRecord, requestRunCancel } from '@kzr/artifacts';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState } from '@kzr/pipeline';
import { openStore } from '@kzr/platform';

import { parseCommand, printJson, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { connectTrainer } from '../trainer-client.js';
import { usage } from './run-cancel.usage.js';

/** Runs the command. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  if (positionals.length !== 1) throw new UsageError('<run>', `expected one run, got ${positionals.length}`);
  const name = positionals[0]!;
  const config = compileEmbeddedConfig(process.env);
  const store = await openStore(config.adapters.store);
  try {
    const record = await readRunRecord(store, name);
    const { status } = reduceRunState(buildPhaseGraph(record.spec), record.events);
    const final = isFinalRunStatus(status);
    if (!final) {
      const trainer = await connectTrainer(process.env, config.dataDir);
      try {
        // Either way the request is `runs/<run>/cancel.json`, which the run's controller polls.
        if (trainer !== undefined) await trainer.cancelRun({ runId: name });
        else await requestRunCancel(store, name, typeof values.reason === 'string' ? values.reason : undefined);
      } finally {
        trainer?.close();
      }
    }
    printJson({ run: name, status, cancelRequested: !final });
  } finally {
    await store.close();
  }
  return 0;
}
