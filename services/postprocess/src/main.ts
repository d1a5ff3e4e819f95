/**
 * Entry point of the standalone postprocess service. Filters live in the Store and hot swaps
 * come from the Bus, both chosen by the adapter variables (`KZR_STORE`, `KZR_BUS`, …; by default
 * the filesystem Store under `KZR_DATA_DIR` and an in-process Bus).
 */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { compileAdapterConfig, createLogger, defaultDataDir, openAdapters, runServiceMain } from '@kzr/platform';

import { compilePostprocessConfig } from './config.js';
import { createPostprocessService } from './service.js';

const adapters = await openAdapters(compileAdapterConfig(process.env, defaultDataDir(process.env)), {
  logger: createLogger({ level: 'warn', fields: { service: 'postprocess' } }),
  source: 'postprocess',
});
try {
  await runServiceMain({
    name: 'postprocess',
    compileConfig: compilePostprocessConfig,
    createServices: (logger) => {
      const service = createPostprocessService(logger, { store: adapters.store, bus: adapters.bus });
      service.startHotSwap().catch((err: unknown) => logger.error('filter hot swap not subscribed', { err }));
      return [service];
    },
    reflectionProtoFiles: [kzrProtoFiles.postprocess],
    protoIncludeDirs: [protoRoot],
  });
} finally {
  await adapters.close();
}
