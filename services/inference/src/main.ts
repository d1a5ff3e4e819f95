/** Entry point of the standalone inference service. */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { runServiceMain } from '@kzr/platform';

import { compileInferenceConfig } from './config.js';
import { createInferenceService } from './service.js';

await runServiceMain({
  name: 'inference',
  compileConfig: compileInferenceConfig,
  createServices: (logger) => [createInferenceService(logger)],
  reflectionProtoFiles: [kzrProtoFiles.inference],
  protoIncludeDirs: [protoRoot],
});
