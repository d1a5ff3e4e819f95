/**
 * `kzr run start [--dataset <name|dir>] [--preset <name> | --spec <file>] [--run <run>] [--watch]`:
 * creates a run and drives it to its end in the foreground. On one machine this command is the
 * run's controller (the embedded mode): it writes `run.json`, starts each phase as a local Job
 * (`kzr phase run`, a child process) and exits when the run is final; Ctrl-C cancels the run.
 * Prints JSON lines: `created`, one `phase` line per change of a phase's state (a cache hit is
 * `succeeded` with `cacheHit: true`), and a last `run` line with the status, per-phase attempts
 * and cache hits, and the wall time. Exit 0 when the run succeeded, 1 otherwise.
 */
import { buildPhaseGraph } from '@kzr/pipeline';
import { createLogger, openAdapters } from '@kzr/platform';
import { checkRunName, createRun, loadRunSpec, newRunName } from '@kzr/trainer';

import { parseCommand, printJson, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { controlRun } from '../runs/foreground.js';
import { resolveRunDataset } from '../runs/run-setup.js';
import { usage } from './run-start.usage.js';

/** Runs the command. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const str = (name: string): string | undefined =>
    typeof values[name] === 'string' ? (values[name] as string) : undefined;
  const specFile = str('spec');
  if (specFile !== undefined && str('preset') !== undefined) {
    throw new UsageError('--spec', 'give --preset or --spec, not both');
  }
  const started = performance.now();
  const spec = await loadRunSpec(specFile !== undefined ? { file: specFile } : { preset: str('preset') ?? 'default' });
  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: config.logLevel, fields: { command: 'run start' } });
  const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-run-start' });
  try {
    const dataset = await resolveRunDataset({
      store: adapters.store,
      bus: adapters.bus,
      spec,
      dataset: str('dataset'),
      dataDir: config.dataDir,
    });
    const name = str('run');
    const record = await createRun(
      adapters.store,
      name === undefined ? newRunName() : checkRunName('--run', name),
      spec,
      dataset,
    );
    printJson({
      type: 'created',
      run: record.run,
      preset: spec.preset,
      dataset: dataset.name,
      datasetSource: dataset.source,
      datasetDigest: dataset.digest,
      phases: buildPhaseGraph(record.spec).phases.map((p) => p.id),
    });
    return await controlRun({ config, adapters, logger, run: record.run, watch: values.watch === true, started });
  } finally {
    await adapters.close();
  }
}
