/**
 * `kzr gc [--keep-runs <n>] [--keep-versions <n>] [--dry-run]`: retention of the configured
 * Store (artifacts' `collectGarbage`): old final runs with their cache entries and results,
 * model-set versions beyond the newest (never the served, promoted or rollback ones), and
 * results that never became visible, once an hour old. Prints one JSON line per thing removed
 * (`run`, `cache-entry`, `model-version`, `staging`), then a `gc` line with the counts.
 */
import { collectGarbage } from '@kzr/artifacts';
import { openStore } from '@kzr/platform';

import { intFlag, parseCommand, printJson } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { usage } from './gc.usage.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const keepRuns = intFlag(values, 'keep-runs', 10);
  const keepVersions = intFlag(values, 'keep-versions', 3);
  const dryRun = values['dry-run'] === true;
  const store = await openStore(compileEmbeddedConfig(process.env).adapters.store);
  try {
    const report = await collectGarbage(store, { keepRuns, keepVersions, dryRun });
    for (const removal of report.removed) printJson(removal);
    const count = (type: string): number => report.removed.filter((r) => r.type === type).length;
    printJson({
      type: 'gc',
      dryRun,
      runs: count('run'),
      cacheEntries: count('cache-entry'),
      modelVersions: count('model-version'),
      staging: count('staging'),
      objects: report.removed.reduce((n, r) => n + r.objects, 0),
      bytes: report.removed.reduce((n, r) => n + r.bytes, 0),
      held: report.held,
    });
  } finally {
    await store.close();
  }
  return 0;
}
