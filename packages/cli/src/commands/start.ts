/**
 * `kzr start`: the embedded mode. Opens the adapters (by default the in-process Bus, the
 * filesystem Store under the data directory and local jobs), starts every service on localhost
 * in this process with the preprocess worker on the Bus, prints one JSON line with their
 * endpoints, health and adapters, and serves until SIGINT/SIGTERM. The drain stops the servers
 * first, then the worker, then the adapters.
 */
import { mkdir } from 'node:fs/promises';

import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { createInferenceService } from '@kzr/inference';
import { createLogger, openAdapters, serve } from '@kzr/platform';
import { createPostprocessService } from '@kzr/postprocess';
import { createPreprocessService, startPreprocessWorker } from '@kzr/preprocess';

import { compileEmbeddedConfig } from '../config.js';

/** Runs the embedded services; resolves with the exit code after the drain. */
export async function run(): Promise<number> {
  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: config.logLevel, fields: { mode: 'embedded' } });
  await mkdir(config.dataDir, { recursive: true });
  const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-embedded' });
  try {
    const worker = await startPreprocessWorker({
      bus: adapters.bus,
      store: adapters.store,
      logger: logger.child({ worker: 'preprocess' }),
    });
    const { lifecycle, servers } = await serve({
      config,
      servers: [
        {
          name: 'preprocess',
          port: config.ports.preprocess,
          services: [createPreprocessService(logger, { store: adapters.store })],
        },
        { name: 'inference', port: config.ports.inference, services: [createInferenceService(logger)] },
        { name: 'postprocess', port: config.ports.postprocess, services: [createPostprocessService(logger)] },
      ],
      reflectionProtoFiles: [kzrProtoFiles.preprocess, kzrProtoFiles.inference, kzrProtoFiles.postprocess],
      protoIncludeDirs: [protoRoot],
      logger,
    }).catch(async (err: unknown) => {
      await worker.stop();
      throw err;
    });
    // Registered first, so it runs after the servers have drained.
    lifecycle.onDrain('preprocess-worker', () => worker.stop());
    const services = Object.fromEntries(
      [...servers].map(([name, server]) => [name, { endpoint: server.endpoint, health: server.status }]),
    );
    process.stdout.write(
      `${JSON.stringify({ mode: 'embedded', dataDir: config.dataDir, adapters: adapters.describe, services })}\n`,
    );
    await lifecycle.untilSignal();
    return lifecycle.state === 'stopped' ? 0 : 1;
  } finally {
    await adapters.close();
  }
}
