/**
 * What `kzr model promote` and `kzr model rollback` share: the embedded adapters (the machine's
 * Bus while `kzr start` runs it) and the `kzr.models.published` announcement of the version they
 * made current (artifacts' `announceServedVersion`), which running inference services swap to.
 */
import { announceServedVersion, type Promotion } from '@kzr/artifacts';
import { createLogger, openAdapters, type Store } from '@kzr/platform';

import { printJson } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';

/** Runs `change` on the Store, announces the version it made current and prints the record. */
export async function changeServedVersion(
  modelSet: string,
  change: (store: Store) => Promise<Promotion>,
): Promise<number> {
  const config = compileEmbeddedConfig(process.env);
  const adapters = await openAdapters(config.adapters, { logger: createLogger({ level: 'warn' }), source: 'kzr-cli' });
  try {
    const promotion = await change(adapters.store);
    await announceServedVersion(adapters.bus, modelSet, promotion.version);
    printJson({ modelSet, served: promotion.version, previous: promotion.previous, bus: adapters.describe.bus });
    return 0;
  } finally {
    await adapters.close();
  }
}
