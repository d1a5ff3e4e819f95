/**
 * `kzr model list [--model-set <s>]`: the published versions, newest first within a set, each
 * saying whether it is served and whether it is promoted (JSON lines).
 */
import { checkSegment, listModelSetVersions } from '@kzr/artifacts';
import { openStore } from '@kzr/platform';

import { parseCommand, printJson } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { usage } from './model-list.usage.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const modelSet = values['model-set'] === undefined ? undefined : checkSegment('--model-set', values['model-set']);
  const store = await openStore(compileEmbeddedConfig(process.env).adapters.store);
  try {
    for (const version of await listModelSetVersions(store, modelSet)) printJson(version);
  } finally {
    await store.close();
  }
  return 0;
}
