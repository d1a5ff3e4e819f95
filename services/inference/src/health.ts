/**
 * Health of the inference service. Besides `kzr.v1.Inference` itself, the gRPC health service
 * reports `kzr.v1.Inference/<model set>`, SERVING once a version of the set is loaded and warmed
 * and NOT_SERVING while its first version loads or when none could load; and the overall health
 * `''` (what a readiness probe checks) is SERVING only while every known set serves, as OIP
 * ServerReady says.
 */
import type { GrpcServer } from '@kzr/platform';

import type { ModelRegistry } from './models/registry.js';
import { inferenceServiceName } from './service.js';

/** The gRPC health name of a model set. */
export function modelSetHealthName(modelSet: string): string {
  return `${inferenceServiceName}/${modelSet}`;
}

/** Keeps the server's health of every model set and its readiness current; returns the function that stops it. */
export function reportModelSetHealth(
  registry: ModelRegistry,
  server: Pick<GrpcServer, 'setHealth' | 'setReady'>,
): () => void {
  server.setReady(registry.ready());
  return registry.onStatus((status) => {
    server.setHealth(modelSetHealthName(status.modelSet), status.state === 'ready' ? 'SERVING' : 'NOT_SERVING');
    server.setReady(registry.ready());
  });
}
