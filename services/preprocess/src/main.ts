/**
 * Entry point of the standalone preprocess service: the platform bootstrap with
 * {@link createPreprocess} (config, then the adapters `KZR_BUS`, `KZR_STORE`, ..., then the
 * worker and the gRPC server; SIGTERM drains).
 */
import { runServiceMain } from '@kzr/platform';

import { compilePreprocessConfig, preprocessEnvNames } from './config.js';
import { createPreprocess } from './create.js';

await runServiceMain({
  name: 'preprocess',
  envNames: preprocessEnvNames,
  compileConfig: compilePreprocessConfig,
  create: createPreprocess,
});
