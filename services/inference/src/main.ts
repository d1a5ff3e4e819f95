/**
 * Entry point of the standalone inference service: model sets from the filesystem Store in
 * `KZR_STORE_DIR` (the newest published version of each set in `KZR_INFERENCE_MODEL_SETS`),
 * kzr.v1.Inference and the OIP v2 service on one port.
 */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { FsStore, runServiceMain } from '@kzr/platform';

import { compileInferenceConfig } from './config.js';
import { activateNewest, createInference } from './create.js';

const config = compileInferenceConfig(process.env);
const store = new FsStore({ root: config.storeDir });

await runServiceMain({
  name: 'inference',
  compileConfig: () => config,
  createServices: (logger) => {
    const runtime = createInference({
      store,
      logger,
      limits: config,
      ...(config.modelSets[0] ? { defaultModelSet: config.modelSets[0] } : {}),
    });
    void activateNewest(runtime.registry, config.modelSets, logger);
    return runtime.services;
  },
  reflectionProtoFiles: [kzrProtoFiles.inference, 'inference/v2/grpc_predict_v2.proto'],
  protoIncludeDirs: [protoRoot],
});
