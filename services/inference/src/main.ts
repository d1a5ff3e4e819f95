/**
 * Entry point of the standalone inference service: the platform bootstrap with
 * {@link createInference} (config, then the adapters `KZR_BUS`, `KZR_STORE`, ..., then the model
 * hot swap, the sets of `KZR_INFERENCE_MODEL_SETS` and the gRPC server; SIGTERM drains).
 */
import { runServiceMain } from '@kzr/platform';

import { compileInferenceConfig, inferenceEnvNames } from './config.js';
import { createInference } from './create.js';

await runServiceMain({
  name: 'inference',
  envNames: inferenceEnvNames,
  compileConfig: compileInferenceConfig,
  create: createInference,
});
