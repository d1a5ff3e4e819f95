/**
 * `kzr run start [--dataset <name|dir>] [--preset <name> | --spec <file>] [--run <run>] [--watch]`:
 * creates a run and follows it to its end. When a trainer is reachable (`kzr start` runs one;
 * `KZR_TRAINER_URL` names another) it creates and drives the run, and this command prints what the
 * run's record says until it is final. Otherwise this command is the run's controller (a lone
 * command): it writes `run.json`, starts each phase as a local Job (`kzr phase run`, a child
 * process) and exits when the run is final. Ctrl-C cancels the run either way.
 * Prints JSON lines: `created`, one `phase` line per change of a phase's state (a cache hit is
 * `succeeded` with `cacheHit: true`), and a last `run` line with the status, per-phase attempts
 * and cache hits, and the wall time. Exit 0 when the run succeeded, 1 otherwise.
 */
import { readRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, type RunRecord, type RunSpec, runSpecToJson } from '@kzr/pipeline';
import { createLogger, openAdapters, type Store } from '@kzr/platform';
import { checkRunName, createRun, loadRunSpec, newRunName } from '@kzr/trainer';

import { parseCommand, printJson, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { controlRun } from '../runs/foreground.js';
import { followRun } from '../runs/follow.js';
import { type RunDataset, resolveRunDataset } from '../runs/run-setup.js';
import { connectTrainer, type Trainer } from '../trainer-client.js';
import { usage } from './run-start.usage.js';

/**
 * Asks the trainer to create and drive the run: the spec with its model configurations inline;
 * the dataset, resolved here into the Store the trainer reads, by name unless it is the spec's
 * synthetic one (the trainer names that itself, so the record is the one `createRun` writes).
 */
async function startOnTrainer(
  trainer: Trainer,
  store: Store,
  run: string,
  spec: RunSpec,
  dataset: RunDataset,
): Promise<RunRecord> {
  await trainer.startRun({
    runId: run,
    preset: '',
    specJson: JSON.stringify(runSpecToJson(spec)),
    spec:
      dataset.synthetic === undefined
        ? { dataset: dataset.name, modelConfigs: [], valBooks: [], seed: 0, phases: [], modelSet: '', labels: {} }
        : undefined,
  });
  return readRunRecord(store, run);
}

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
    const run = name === undefined ? newRunName() : checkRunName('--run', name);
    const trainer = await connectTrainer(process.env, config.dataDir);
    const record =
      trainer === undefined
        ? await createRun(adapters.store, run, spec, dataset)
        : await startOnTrainer(trainer, adapters.store, run, spec, dataset);
    printJson({
      type: 'created',
      run: record.run,
      preset: spec.preset,
      dataset: dataset.name,
      datasetSource: dataset.source,
      datasetDigest: dataset.digest,
      phases: buildPhaseGraph(record.spec).phases.map((p) => p.id),
      ...(trainer !== undefined ? { trainer: trainer.endpoint } : {}),
    });
    if (trainer === undefined) {
      return await controlRun({ config, adapters, logger, run: record.run, watch: values.watch === true, started });
    }
    // The trainer drives it; Ctrl-C asks the trainer to cancel it, and the lines follow to its end.
    const cancel = (): void => void trainer.cancelRun({ runId: record.run }).catch(() => undefined);
    process.once('SIGINT', cancel);
    process.once('SIGTERM', cancel);
    try {
      return await followRun(adapters.store, record.run, started);
    } finally {
      process.off('SIGINT', cancel);
      process.off('SIGTERM', cancel);
      trainer.close();
    }
  } finally {
    await adapters.close();
  }
}
