/**
 * `kzr retrain --dataset <name> [--preset <p> | --spec <file>] [--request-id <id>]`: asks the
 * trainer for a run by publishing `kzr.training.requested` (../runs/request.ts) on the Bus the
 * trainer consumes: the NATS that `KZR_NATS_URL` names, else the machine's Bus while `kzr start`
 * runs one for this data directory. The event carries the dataset, the preset or the whole spec
 * (model configurations inline) and the run's name, which is the request id: the trainer makes
 * one run per request id, and JetStream drops a second publication of the same id within its
 * duplicate window. Prints one JSON line: the request id, the run, and whether the Bus had the
 * request already. Without a Bus the trainer can hear (none configured, or `KZR_BUS=memory`,
 * this process's own) it exits 1 with `kzr: bus: ...` and publishes nothing.
 */
import { checkSegment } from '@kzr/artifacts';
import { createLogger, machineBusFile, NotReadyError, openBus, readString } from '@kzr/platform';
import { checkRunName, loadRunSpec, newRunName } from '@kzr/trainer';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { requestTraining } from '../runs/request.js';
import { usage } from './retrain.usage.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const str = (name: string): string | undefined =>
    typeof values[name] === 'string' ? (values[name] as string) : undefined;
  const dataset = checkSegment('--dataset', requireFlag(values, 'dataset'));
  const specFile = str('spec');
  const preset = str('preset');
  if (specFile !== undefined && preset !== undefined)
    throw new UsageError('--spec', 'give --preset or --spec, not both');
  const requestId = checkRunName('--request-id', str('request-id') ?? newRunName());
  // Read here, so that a bad preset or spec fails now rather than in the trainer.
  const spec = await loadRunSpec(specFile !== undefined ? { file: specFile } : { preset: preset ?? 'default' });

  const config = compileEmbeddedConfig(process.env);
  const bus = config.adapters.bus;
  if (bus.kind === 'memory') {
    // The in-process Bus would take the request and nobody would ever hear it.
    const why =
      readString(process.env, 'KZR_BUS') === 'memory'
        ? "KZR_BUS=memory is this process's own Bus, which no trainer hears"
        : `KZR_NATS_URL is not set and no \`kzr start\` runs a Bus for ${config.dataDir} (no live ${machineBusFile(config.dataDir)})`;
    throw new NotReadyError(`bus: nowhere to publish kzr.training.requested: ${why}`);
  }
  const logger = createLogger({ level: config.logLevel, fields: { command: 'retrain' } });
  const opened = await openBus(bus, { logger, source: 'kzr-retrain' });
  try {
    const result = await requestTraining(
      opened,
      specFile === undefined ? { requestId, dataset, preset: preset ?? 'default' } : { requestId, dataset, spec },
    );
    printJson({
      type: 'requested',
      requestId,
      run: requestId,
      dataset,
      preset: spec.preset,
      duplicate: result.duplicate,
      bus: bus.servers.join(','),
    });
  } finally {
    await opened.close();
  }
  return 0;
}
