/**
 * The preprocess service as one runtime: the JetStream worker on `kzr.pages.ingested` (shared
 * durable `preprocess`) and `kzr.v1.Preprocess` on gRPC, with `Image.store_key` inputs read from
 * the Store. Used by the standalone main, the CLI's embedded mode and tests.
 */
import { kzrProtoFiles } from '@kzr/api/proto-root';
import { DrainPhase, type ServiceOptions, type ServiceRuntime, startService } from '@kzr/platform';

import type { PreprocessConfig } from './config.js';
import { createPreprocessService } from './service.js';
import { startPreprocessWorker } from './worker.js';

/** Options of {@link createPreprocess}. */
export interface PreprocessOptions extends ServiceOptions<PreprocessConfig> {
  /** Durable consumer of the worker, shared by replicas. @default 'preprocess' */
  readonly durable?: string;
}

/** A started preprocess service. */
export type PreprocessRuntime = ServiceRuntime;

/** Starts the worker, then the gRPC server; disposing the runtime stops the worker first. */
export function createPreprocess(options: PreprocessOptions): Promise<PreprocessRuntime> {
  const { config, bus, store, logger } = options;
  return startService({
    name: 'preprocess',
    config,
    logger,
    protoFiles: [kzrProtoFiles.preprocess],
    setUp: async (lifecycle) => {
      const worker = await startPreprocessWorker({
        bus,
        store,
        logger: logger.child({ worker: 'preprocess' }),
        threads: config.threads,
        maxPagePixels: config.maxPagePixels,
        ...(options.durable !== undefined ? { durable: options.durable } : {}),
      });
      lifecycle.onDrain(DrainPhase.Intake, 'preprocess-worker', (graceMs) => worker.stop(graceMs));
      return { services: [createPreprocessService(logger, { limits: config, store })], expose: {} };
    },
  });
}
