// Test helper: the three services of the page path started in this process on free loopback
// ports over one Store, inference's RecognizePage pointed at the two others (as `kzr start` does).
import { compileInferenceConfig, createInference, type InferenceRuntime } from '@kzr/inference';
import { createLogger, MemoryBus, type Store } from '@kzr/platform';
import { compilePostprocessConfig, createPostprocess, type PostprocessRuntime } from '@kzr/postprocess';
import { compilePreprocessConfig, createPreprocess } from '@kzr/preprocess';

export interface PagePath {
  readonly endpoint: string;
  readonly inference: InferenceRuntime;
  readonly postprocess: PostprocessRuntime;
  close(): Promise<void>;
}

export async function startPagePath(store: Store): Promise<PagePath> {
  const env = { KZR_GRPC_PORT: '0', KZR_GRPC_MAX_MESSAGE_BYTES: '64MiB' };
  const logger = createLogger({ write: () => {} });
  const bus = new MemoryBus({ logger });
  const shared = { store, bus, logger };
  const preprocess = await createPreprocess({ ...shared, config: compilePreprocessConfig(env) });
  const postprocess = await createPostprocess({ ...shared, config: compilePostprocessConfig(env) });
  const inference = await createInference({
    ...shared,
    config: {
      ...compileInferenceConfig(env),
      pagePath: { preprocess: preprocess.server.endpoint, postprocess: postprocess.server.endpoint },
    },
  });
  return {
    endpoint: inference.server.endpoint,
    inference,
    postprocess,
    close: async () => {
      await inference.close();
      await postprocess.close();
      await preprocess.close();
      await bus.close();
    },
  };
}
