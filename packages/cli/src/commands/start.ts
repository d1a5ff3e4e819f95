/**
 * `kzr start`: the embedded mode. Opens the adapters (by default the in-process Bus, the
 * filesystem Store under the data directory and local jobs), starts every service on localhost
 * in this process (inference on the newest published model set), with the preprocess worker and
 * the model and filter hot swaps on the Bus, prints one JSON line with their endpoints, health and
 * adapters, and serves until SIGINT/SIGTERM. The drain stops the Bus consumers first, then the
 * servers, then the loaded models and the adapters.
 */
import { mkdir } from 'node:fs/promises';

import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { activateNewest, createInference, reportModelSetHealth } from '@kzr/inference';
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
  const inference = createInference({ store: adapters.store, logger: logger.child({ service: 'inference' }) });
  try {
    const worker = await startPreprocessWorker({
      bus: adapters.bus,
      store: adapters.store,
      logger: logger.child({ worker: 'preprocess' }),
    });
    // Inference serves the newest published model set and follows `kzr.models.published`.
    const modelSwaps = await inference.registry.follow(adapters.bus);
    void activateNewest(inference.registry, [], logger);
    const postprocess = createPostprocessService(logger, { store: adapters.store, bus: adapters.bus });
    const filterSwaps = await postprocess.startHotSwap();
    const { lifecycle, servers } = await serve({
      config,
      servers: [
        {
          name: 'preprocess',
          port: config.ports.preprocess,
          services: [createPreprocessService(logger, { store: adapters.store })],
        },
        { name: 'inference', port: config.ports.inference, services: inference.services },
        { name: 'postprocess', port: config.ports.postprocess, services: [postprocess] },
      ],
      reflectionProtoFiles: [
        kzrProtoFiles.preprocess,
        kzrProtoFiles.inference,
        kzrProtoFiles.inferenceV2,
        kzrProtoFiles.postprocess,
      ],
      protoIncludeDirs: [protoRoot],
      logger,
    }).catch(async (err: unknown) => {
      await worker.stop();
      await filterSwaps?.stop();
      await modelSwaps.stop();
      throw err;
    });
    // Registered after the servers, so they stop first (the lifecycle drains in reverse order):
    // no new Bus work starts while the servers finish their calls.
    lifecycle.onDrain('preprocess-worker', () => worker.stop());
    lifecycle.onDrain('postprocess-filter-swaps', async () => filterSwaps?.stop());
    lifecycle.onDrain('inference-model-swaps', () => modelSwaps.stop());
    const inferenceServer = servers.get('inference');
    if (inferenceServer) reportModelSetHealth(inference.registry, inferenceServer);
    const services = Object.fromEntries(
      [...servers].map(([name, server]) => [name, { endpoint: server.endpoint, health: server.status }]),
    );
    process.stdout.write(
      `${JSON.stringify({ mode: 'embedded', dataDir: config.dataDir, adapters: adapters.describe, services })}\n`,
    );
    await lifecycle.untilSignal();
    return lifecycle.state === 'stopped' ? 0 : 1;
  } finally {
    // After the servers have drained: no call still holds a model.
    await inference.close();
    await adapters.close();
  }
}
