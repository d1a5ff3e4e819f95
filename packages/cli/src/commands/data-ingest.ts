/**
 * `kzr data ingest <kaggle-dir> --dataset <name>`: stores a Kaggle-layout folder (pages,
 * train.csv, unicode_translation.csv, detections/*.json) under `datasets/<name>/` and publishes
 * `kzr.pages.ingested`, on the adapters the configuration selects (`KZR_STORE`, `KZR_BUS`; by
 * default the embedded filesystem Store under the data directory and the in-process Bus, whose
 * event only this process sees). Prints what was stored.
 */
import { openAdapters, createLogger } from '@kzr/platform';
import { ingestKaggleDir } from '@kzr/preprocess';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './data-ingest.usage.js';
import { compileEmbeddedConfig } from '../config.js';

/** Runs the command; a folder without pages or with bad labels exits 2 before anything is stored. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  if (positionals.length !== 1) throw new UsageError('<kaggle-dir>', `expected one folder, got ${positionals.length}`);
  const dataset = requireFlag(values, 'dataset');
  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: config.logLevel, fields: { command: 'data ingest' } });
  const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-data-ingest' });
  try {
    const result = await ingestKaggleDir({
      sourceDir: positionals[0]!,
      dataset,
      store: adapters.store,
      bus: adapters.bus,
    });
    printJson({
      ...result,
      pages: result.pageIds.length,
      pageIds: undefined,
      store: adapters.store.kind,
      bus: adapters.bus.kind,
    });
  } finally {
    await adapters.close();
  }
  return 0;
}
