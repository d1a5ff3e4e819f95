/**
 * Wiring of the inference service. {@link createInferenceServing} builds the registry, metrics
 * and the two gRPC services over one {@link Serving}, without a server (the CLI's in-process
 * `kzr recognize`, benchmarks). {@link createInference} is the service runtime (standalone main,
 * embedded mode, tests): that, plus the model hot swap on the Bus, the newest published sets
 * loaded at start, health per set and readiness, and the gRPC server.
 */
import { kzrProtoFiles } from '@kzr/api/proto-root';
import {
  DrainPhase,
  type GrpcClientConfig,
  type GrpcServiceRegistration,
  type Logger,
  type ServiceOptions,
  type ServiceRuntime,
  startService,
  type Store,
} from '@kzr/platform';

import { defaultInferenceLimits, type InferenceConfig, type InferenceLimits, localPagePath } from './config.js';
import { reportModelSetHealth } from './health.js';
import { InferenceMetrics } from './metrics.js';
import { ModelRegistry } from './models/registry.js';
import { createOipService } from './oip-service.js';
import { grpcPagePath, type PagePathEndpoints } from './recognize/page-path.js';
import { createInferenceService } from './service.js';
import { Serving } from './serving.js';

/** Options of {@link createInferenceServing}. */
export interface InferenceServingOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly limits?: Partial<InferenceLimits>;
  readonly defaultModelSet?: string;
  /** ONNX Runtime intra-op threads (0: its default). */
  readonly intraOpThreads?: number;
  /** Where RecognizePage calls preprocess and postprocess. @default {@link localPagePath} */
  readonly pagePath?: PagePathEndpoints;
  /** Largest message to and from those services. @default 64 MiB */
  readonly maxMessageBytes?: number;
  /** TLS and token of the calls to those services. @default plaintext, no token */
  readonly client?: GrpcClientConfig;
}

/** The inference service's parts, without a server. */
export interface InferenceServing extends AsyncDisposable {
  readonly registry: ModelRegistry;
  readonly serving: Serving;
  readonly metrics: InferenceMetrics;
  /** `kzr.v1.Inference` and `inference.GRPCInferenceService`. */
  readonly services: readonly GrpcServiceRegistration[];
  close(): Promise<void>;
}

/** Builds the registry and the services; load sets with `registry.activate` or `registry.follow`. */
export function createInferenceServing(options: InferenceServingOptions): InferenceServing {
  const limits: InferenceLimits = { ...defaultInferenceLimits, ...options.limits };
  const metrics = new InferenceMetrics();
  const registry = new ModelRegistry({
    store: options.store,
    logger: options.logger,
    batching: { maxBatch: limits.maxBatch, maxDelayMs: limits.maxDelayMs, maxQueue: limits.maxQueue },
    batchObserver: { onBatch: (rows) => metrics.batch(rows), onReject: () => metrics.rejected() },
    ...(limits.engine ? { engine: limits.engine } : {}),
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
  });
  metrics.observeQueueDepth(() => registry.queueDepth());
  const pagePath = grpcPagePath(
    options.pagePath ?? localPagePath,
    options.maxMessageBytes ?? 64 * 1024 ** 2,
    options.client,
  );
  const serving = new Serving({
    pagePath,
    registry,
    limits,
    logger: options.logger,
    metrics,
    ...(options.defaultModelSet !== undefined ? { defaultModelSet: options.defaultModelSet } : {}),
  });
  const close = (): Promise<void> => {
    pagePath.close();
    return registry.close();
  };
  return {
    registry,
    serving,
    metrics,
    services: [createInferenceService(serving), createOipService(serving)],
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Options of {@link createInference}. */
export interface InferenceOptions extends ServiceOptions<InferenceConfig> {
  /** Durable consumer of `kzr.models.published` for this replica. @default 'inference-models' */
  readonly durable?: string;
}

/** A started inference service. */
export interface InferenceRuntime extends ServiceRuntime {
  /** Which version of each model set serves. */
  readonly registry: ModelRegistry;
}

/**
 * Starts the inference service: follows `kzr.models.published`, loads the newest published
 * version of each set in `config.modelSets` (all sets when empty) in the background, and serves
 * `kzr.v1.Inference` with the OIP v2 service. The overall health is NOT_SERVING until every
 * known set serves a version. A drain stops the hot swap, lets calls finish, then frees the
 * models.
 */
export function createInference(options: InferenceOptions): Promise<InferenceRuntime> {
  const { config, bus, store, logger } = options;
  return startService({
    name: 'inference',
    config,
    logger,
    protoFiles: [kzrProtoFiles.inference, kzrProtoFiles.inferenceV2],
    ready: false,
    setUp: async (lifecycle) => {
      const { registry, services, close } = createInferenceServing({
        store,
        logger,
        limits: config,
        pagePath: config.pagePath,
        maxMessageBytes: config.maxMessageBytes,
        client: config.grpcClient,
        ...(config.modelSets[0] ? { defaultModelSet: config.modelSets[0] } : {}),
      });
      lifecycle.onDrain(DrainPhase.Resources, 'model-sets', close);
      const swaps = await registry.follow(bus, options.durable);
      lifecycle.onDrain(DrainPhase.Intake, 'model-swaps', (graceMs) => swaps.stop(graceMs));
      void activateNewest(registry, config.modelSets, logger);
      return { services, expose: { registry }, onListening: (server) => reportModelSetHealth(registry, server) };
    },
  });
}

/**
 * Activates the version to serve of each named set (the promoted, else the newest; with no
 * names, that of the set published last).
 * Failures are logged, never thrown, so it can run in the background.
 */
async function activateNewest(registry: ModelRegistry, modelSets: readonly string[], logger: Logger): Promise<void> {
  const names = modelSets.length > 0 ? modelSets : [undefined];
  await Promise.all(
    names.map(async (name) => {
      // Never rejects: callers start it in the background, and a failure leaves the set unready.
      const newest = await registry.servedVersion(name).catch((err: unknown) => {
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
