/**
 * `kzr data ingest <dir>... --dataset <name> [--format kaggle|codh]`: stores a dataset under
 * `datasets/<name>/` and publishes `kzr.pages.ingested`, on the adapters the configuration
 * selects (`KZR_STORE`, `KZR_BUS`; by default the embedded filesystem Store under the data
 * directory and the in-process Bus, whose event only this process sees). `kaggle`: one
 * Kaggle-layout folder (pages, train.csv, unicode_translation.csv, detections/*.json). `codh`:
 * one or more CODH book folders (`<book>/images/*.jpg`, `<book>/<book>_coordinate.csv`), or
 * folders of them, stored in the same form (no translation table, no detection sets). Prints
 * what was stored.
 */
import { openAdapters, createLogger } from '@kzr/platform';
import { ingestCodhBooks, ingestKaggleDir } from '@kzr/preprocess';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { usage } from './data-ingest.usage.js';

/** Runs the command; a folder without pages or with bad labels exits 2 before anything is stored. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  const format = values.format ?? 'kaggle';
  if (format !== 'kaggle' && format !== 'codh') {
    throw new UsageError('--format', `expected kaggle or codh, got ${JSON.stringify(format)}`);
  }
  if (format === 'kaggle' && positionals.length !== 1) {
    throw new UsageError('<dir>', `expected one Kaggle-layout folder, got ${positionals.length}`);
  }
  if (positionals.length === 0) throw new UsageError('<dir>', 'expected at least one CODH book folder');
  const dataset = requireFlag(values, 'dataset');
  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: config.logLevel, fields: { command: 'data ingest' } });
  const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-data-ingest' });
  try {
    const target = { dataset, store: adapters.store, bus: adapters.bus };
    const result =
      format === 'codh'
        ? await ingestCodhBooks({ ...target, sourceDirs: positionals })
        : await ingestKaggleDir({ ...target, sourceDir: positionals[0]! });
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
