/**
 * Where the `.proto` sources live at run time, for server reflection and generic clients.
 * Found by walking up from this module, so it works from `src/` (tsx) and `dist/src/` (compiled).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProtoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', 'kzr', 'v1', 'common.proto'))) return join(dir, 'proto');
  }
  throw new Error('proto/kzr/v1 not found above @kzr/api; the .proto files must ship with the package');
}

/** Absolute path of the `proto/` directory (the include root of every kzr `.proto`). */
export const protoRoot: string = findProtoRoot();

/** The served `.proto` files, relative to {@link protoRoot}. */
export const kzrProtoFiles = {
  common: 'kzr/v1/common.proto',
  preprocess: 'kzr/v1/preprocess.proto',
  inference: 'kzr/v1/inference.proto',
  postprocess: 'kzr/v1/postprocess.proto',
  trainer: 'kzr/v1/trainer.proto',
  events: 'kzr/v1/events.proto',
  /** The Open Inference Protocol v2 service (`inference.GRPCInferenceService`). */
  inferenceV2: 'inference/v2/grpc_predict_v2.proto',
} as const;
