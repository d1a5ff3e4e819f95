/**
 * Wiring of the inference service for a process (standalone main, embedded mode, CLI, tests):
 * registry, metrics and the two gRPC services over one {@link Serving}.
 */
import { type Logger, type GrpcServiceRegistration, type Store } from '@kzr/platform';

import { defaultInferenceLimits, type InferenceLimits } from './config.js';
import { InferenceMetrics } from './metrics.js';
import { ModelRegistry } from './models/registry.js';
import { createOipService } from './oip-service.js';
import { createInferenceService } from './service.js';
import { Serving } from './serving.js';

/** Options of {@link createInference}. */
export interface CreateInferenceOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly limits?: Partial<InferenceLimits>;
  readonly defaultModelSet?: string;
  /** ONNX Runtime intra-op threads (0: its default). */
  readonly intraOpThreads?: number;
}

/** A wired inference service. */
export interface InferenceRuntime extends AsyncDisposable {
  readonly registry: ModelRegistry;
  readonly serving: Serving;
  readonly metrics: InferenceMetrics;
  /** `kzr.v1.Inference` and `inference.GRPCInferenceService`. */
  readonly services: readonly GrpcServiceRegistration[];
  close(): Promise<void>;
}

/** Builds the registry and the services; load sets with `registry.activate` or `registry.follow`. */
export function createInference(options: CreateInferenceOptions): InferenceRuntime {
  const limits: InferenceLimits = { ...defaultInferenceLimits, ...options.limits };
  const metrics = new InferenceMetrics();
  const registry = new ModelRegistry({
    store: options.store,
    logger: options.logger,
    batching: { maxBatch: limits.maxBatch, maxDelayMs: limits.maxDelayMs },
    batchObserver: { onBatch: (rows) => metrics.batch(rows) },
    ...(limits.engine ? { engine: limits.engine } : {}),
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
  });
  metrics.observeQueueDepth(() => registry.queueDepth());
  const serving = new Serving({
    registry,
    limits,
    logger: options.logger,
    metrics,
    ...(options.defaultModelSet !== undefined ? { defaultModelSet: options.defaultModelSet } : {}),
  });
  const close = (): Promise<void> => registry.close();
  return {
    registry,
    serving,
    metrics,
    services: [createInferenceService(serving), createOipService(serving)],
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Activates the newest published version of each named set (all sets' newest when empty).
 * Failures are logged, never thrown, so it can run in the background.
 */
export async function activateNewest(
  registry: ModelRegistry,
  modelSets: readonly string[],
  logger: Logger,
): Promise<void> {
  const names = modelSets.length > 0 ? modelSets : [undefined];
  await Promise.all(
    names.map(async (name) => {
      // Never rejects: callers start it in the background, and a failure leaves the set unready.
      const newest = await registry.newestPublished(name).catch((err: unknown) => {
        logger.error('could not list the published model sets', { modelSet: name ?? '(any)', err });
        return undefined;
      });
      if (!newest) {
        logger.warn('no published model set version to serve', { modelSet: name ?? '(any)' });
        return;
      }
      await registry.activate(newest.modelSet, newest.version).catch(() => undefined); // logged by the registry
    }),
  );
}
