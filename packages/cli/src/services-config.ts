/** The configs of the embedded services (`kzr start`). */
import { compileInferenceConfig, defaultInferencePort, type InferenceConfig } from '@kzr/inference';
import { type Env, readPort } from '@kzr/platform';
import { compilePostprocessConfig, defaultPostprocessPort, type PostprocessConfig } from '@kzr/postprocess';
import { compilePreprocessConfig, defaultPreprocessPort, type PreprocessConfig } from '@kzr/preprocess';
import { compileTrainerConfig, defaultTrainerPort, type TrainerConfig } from '@kzr/trainer';

/**
 * The config of each embedded service (`kzr start`), compiled as its standalone main compiles
 * it, except the gRPC port: `KZR_PREPROCESS_PORT`, `KZR_INFERENCE_PORT`, `KZR_POSTPROCESS_PORT`,
 * `KZR_TRAINER_PORT` (0 picks a free port; by default each service's standalone port, 50051,
 * 50052, 50053, 50054), and no health-only port (`KZR_HEALTH_PORT` is one process's, for a
 * Deployment's probes).
 */
export interface EmbeddedServicesConfig {
  readonly preprocess: PreprocessConfig;
  readonly inference: InferenceConfig;
  readonly postprocess: PostprocessConfig;
  readonly trainer: TrainerConfig;
}

/** Compiles the {@link EmbeddedServicesConfig}; throws a ConfigError naming the first bad variable. */
export function compileEmbeddedServicesConfig(env: Env): EmbeddedServicesConfig {
  const port = (name: string, fallback: number): { grpcPort: number; healthPort: undefined } => ({
    grpcPort: readPort(env, name, fallback),
    healthPort: undefined,
  });
  return Object.freeze({
    preprocess: Object.freeze({
      ...compilePreprocessConfig(env),
      ...port('KZR_PREPROCESS_PORT', defaultPreprocessPort),
    }),
    inference: Object.freeze({ ...compileInferenceConfig(env), ...port('KZR_INFERENCE_PORT', defaultInferencePort) }),
    postprocess: Object.freeze({
      ...compilePostprocessConfig(env),
      ...port('KZR_POSTPROCESS_PORT', defaultPostprocessPort),
    }),
    trainer: Object.freeze({ ...compileTrainerConfig(env), ...port('KZR_TRAINER_PORT', defaultTrainerPort) }),
  });
}
