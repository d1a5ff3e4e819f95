/**
 * Entry point of the standalone postprocess service: the platform bootstrap with
 * {@link createPostprocess} (config, then the adapters `KZR_BUS`, `KZR_STORE`, ..., then the
 * filter hot swap and the gRPC server; SIGTERM drains).
 */
import { runServiceMain } from '@kzr/platform';

import { compilePostprocessConfig, postprocessEnvNames } from './config.js';
import { createPostprocess } from './create.js';

await runServiceMain({
  name: 'postprocess',
  envNames: postprocessEnvNames,
  compileConfig: compilePostprocessConfig,
  create: createPostprocess,
});
