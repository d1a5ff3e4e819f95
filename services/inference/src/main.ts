/**
 * Entry point of the standalone inference service: the adapters from the environment (`KZR_BUS`,
 * `KZR_STORE`, ...), the newest published version of each set in `KZR_INFERENCE_MODEL_SETS` (all
 * sets when unset), hot swap on `kzr.models.published` (durable `inference-models`), and
 * kzr.v1.Inference with the OIP v2 service on one port. Invalid config exits 2.
 */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { createLogger, isConfigError, openAdapters, runServiceMain } from '@kzr/platform';

import { compileInferenceConfig, type InferenceConfig } from './config.js';
import { activateNewest, createInference } from './create.js';
import { reportModelSetHealth } from './health.js';

let config: InferenceConfig | undefined;
try {
  config = compileInferenceConfig(process.env);
} catch (err) {
  process.stderr.write(`${isConfigError(err) ? err.message : String(err)}\n`);
  process.exitCode = isConfigError(err) ? 2 : 1;
}
if (config) {
  const logger = createLogger({ level: config.logLevel, fields: { service: 'inference' } });
  const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-inference' });
  const runtime = createInference({
    store: adapters.store,
    logger,
    limits: config,
    ...(config.modelSets[0] ? { defaultModelSet: config.modelSets[0] } : {}),
  });
  try {
    const following = await runtime.registry.follow(adapters.bus);
    void activateNewest(runtime.registry, config.modelSets, logger);
    const compiled = config;
    await runServiceMain({
      name: 'inference',
      compileConfig: () => compiled,
      createServices: () => runtime.services,
      onStarted: (server) => reportModelSetHealth(runtime.registry, server),
      reflectionProtoFiles: [kzrProtoFiles.inference, kzrProtoFiles.inferenceV2],
      protoIncludeDirs: [protoRoot],
    });
    await following.stop();
  } finally {
    await runtime.close();
    await adapters.close();
  }
}
