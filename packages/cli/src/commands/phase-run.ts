/**
 * `kzr phase run --run <run> --phase <phase> [--model <m>] [--attempt <n>] [--resume]`: one
 * phase of a run, the command each phase Job runs (the run's controller starts it; by hand it
 * re-runs a phase whose inputs are complete). Prints JSON lines: the phase's progress, then a
 * `done` line, or a `cache-hit` line when a finished phase with the same input hash exists.
 * Store and Bus are the configured ones (`KZR_STORE`, `KZR_BUS`), as for every command.
 */
import { createLogger, openAdapters } from '@kzr/platform';
import { modelPhaseNames, phaseId, PhaseName } from '@kzr/pipeline';

import { intFlag, parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { runPhase } from '../runs/phase-entry.js';
import { usage } from './phase-run.usage.js';

/** Runs the command; exit 1 with `kzr: <why>` when the phase fails (its failure report says whether a retry may help). */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const run = requireFlag(values, 'run');
  const phase = requireFlag(values, 'phase') as PhaseName;
  if (!(Object.values(PhaseName) as string[]).includes(phase)) {
    throw new UsageError(
      '--phase',
      `expected one of ${Object.values(PhaseName).join(', ')}, got ${JSON.stringify(phase)}`,
    );
  }
  const model = typeof values.model === 'string' ? values.model : undefined;
  if (modelPhaseNames.includes(phase) !== (model !== undefined)) {
    throw new UsageError(
      '--model',
      model === undefined ? `${phase} runs per model: name one` : `${phase} takes no model`,
    );
  }
  const attempt = intFlag(values, 'attempt', 1, 1);
  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: config.logLevel, fields: { command: 'phase run' } });
  // A phase Job started while nats-server restarts waits for it rather than fail its attempt.
  const adapters = await openAdapters(config.adapters, {
    logger,
    source: 'kzr-phase-run',
    connectTimeoutMs: 30_000,
  });
  const abort = new AbortController();
  const stop = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await runPhase({
      store: adapters.store,
      bus: adapters.bus,
      logger,
      run,
      phase: phaseId(phase, model),
      attempt,
      resume: values.resume === true,
      dataDir: config.dataDir,
      signal: abort.signal,
      loadBody: async (name) => (await import('../phases/index.js')).phaseBodies[name](),
      print: printJson,
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await adapters.close();
  }
  return 0;
}
