/**
 * `kzr run resume <run> [--watch]`: becomes the controller of a run whose controller stopped (its
 * `kzr run start` was killed, the machine restarted) and drives it to its end. A phase the
 * records say runs is settled first: complete when its cache entry exists, else a retryable
 * failure, retried (after its checkpoint, for a training) like any other. Prints what `kzr run
 * start` prints after its `created` line. One controller drives a run at a time: resume only a
 * run whose controller is gone.
 */
import { readRunRecord } from '@kzr/artifacts';
import { createLogger, openAdapters } from '@kzr/platform';

import { parseCommand, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { controlRun } from '../runs/foreground.js';
import { usage } from './run-resume.usage.js';

/** Runs the command; exit 0 when the run succeeded, 1 otherwise. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  if (positionals.length !== 1) throw new UsageError('<run>', `expected one run, got ${positionals.length}`);
  const name = positionals[0]!;
  const started = performance.now();
  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: config.logLevel, fields: { command: 'run resume' } });
  const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-run-resume' });
  try {
    await readRunRecord(adapters.store, name);
    return await controlRun({ config, adapters, logger, run: name, watch: values.watch === true, started });
  } finally {
    await adapters.close();
  }
}
