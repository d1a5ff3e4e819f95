/** Entry point of the standalone preprocess service. */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { runServiceMain } from '@kzr/platform';

import { compilePreprocessConfig } from './config.js';
import { createPreprocessService } from './service.js';

await runServiceMain({
  name: 'preprocess',
  compileConfig: compilePreprocessConfig,
  createServices: (logger) => [createPreprocessService(logger)],
  reflectionProtoFiles: [kzrProtoFiles.preprocess],
  protoIncludeDirs: [protoRoot],
});
