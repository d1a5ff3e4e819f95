/** Entry point of the standalone postprocess service. */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { runServiceMain } from '@kzr/platform';

import { compilePostprocessConfig } from './config.js';
import { createPostprocessService } from './service.js';

await runServiceMain({
  name: 'postprocess',
  compileConfig: compilePostprocessConfig,
  createServices: (logger) => [createPostprocessService(logger)],
  reflectionProtoFiles: [kzrProtoFiles.postprocess],
  protoIncludeDirs: [protoRoot],
});
