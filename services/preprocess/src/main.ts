/**
 * Entry point of the standalone preprocess service. With `KZR_BUS=nats` (the cluster) it opens
 * the adapters the configuration selects (`KZR_BUS`, `KZR_STORE`, ...; see the root README),
 * serves `Image.store_key` inputs from the Store and runs the JetStream worker on the shared
 * durable `preprocess`; otherwise it serves gRPC only.
 */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import {
  compileAdapterConfig,
  createLogger,
  defaultDataDir,
  isConfigError,
  openAdapters,
  readString,
  runServiceMain,
  serve,
} from '@kzr/platform';

import { compilePreprocessConfig } from './config.js';
import { createPreprocessService } from './service.js';
import { startPreprocessWorker } from './worker.js';

if (readString(process.env, 'KZR_BUS') !== 'nats') {
  await runServiceMain({
    name: 'preprocess',
    compileConfig: compilePreprocessConfig,
    createServices: (logger) => [createPreprocessService(logger, { limits: compilePreprocessConfig(process.env) })],
    reflectionProtoFiles: [kzrProtoFiles.preprocess],
    protoIncludeDirs: [protoRoot],
  });
} else {
  try {
    const config = compilePreprocessConfig(process.env);
    const logger = createLogger({ level: config.logLevel, fields: { service: 'preprocess' } });
    const adapters = await openAdapters(compileAdapterConfig(process.env, defaultDataDir(process.env)), {
      logger,
      source: 'preprocess',
    });
    try {
      const worker = await startPreprocessWorker({
        bus: adapters.bus,
        store: adapters.store,
        logger: logger.child({ worker: 'preprocess' }),
        threads: config.threads,
        maxPagePixels: config.maxPagePixels,
      });
      const { lifecycle } = await serve({
        config,
        servers: [
          {
            name: 'preprocess',
            port: config.grpcPort,
            services: [createPreprocessService(logger, { limits: config, store: adapters.store })],
          },
        ],
        reflectionProtoFiles: [kzrProtoFiles.preprocess],
        protoIncludeDirs: [protoRoot],
        logger,
      }).catch(async (err: unknown) => {
        await worker.stop();
        throw err;
      });
      lifecycle.onDrain('preprocess-worker', () => worker.stop());
      await lifecycle.untilSignal();
      process.exitCode = lifecycle.state === 'stopped' ? 0 : 1;
    } finally {
      await adapters.close();
    }
  } catch (err) {
    process.stderr.write(`${isConfigError(err) ? err.message : String(err)}\n`);
    process.exitCode = isConfigError(err) ? 2 : 1;
  }
}
