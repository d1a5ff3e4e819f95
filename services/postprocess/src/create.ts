/**
 * The postprocess service as one runtime: `kzr.v1.Postprocess` on gRPC with filters in the
 * Store, and the filter hot swap on `kzr.filter.published`. Used by the standalone main, the
 * CLI's embedded mode and tests.
 */
import { kzrProtoFiles } from '@kzr/api/proto-root';
import type { FilterRepository } from '@kzr/artifacts';
import { DrainPhase, type ServiceOptions, type ServiceRuntime, startService } from '@kzr/platform';

import type { PostprocessConfig } from './config.js';
import { createPostprocessService, type FilterState } from './service.js';

/** Options of {@link createPostprocess}. */
export interface PostprocessOptions extends ServiceOptions<PostprocessConfig> {
  /** Overrides where filters are kept (tests). @default the Store */
  readonly filters?: FilterRepository;
  /** Durable consumer of this replica's hot-swap subscription. @default 'postprocess-filters' */
  readonly durable?: string;
}

/** A started postprocess service. */
export interface PostprocessRuntime extends ServiceRuntime {
  /** The current filter version and the loaded ones. */
  readonly filters: FilterState;
}

/** Subscribes the filter hot swap, then starts the gRPC server; disposing the runtime unsubscribes first. */
export function createPostprocess(options: PostprocessOptions): Promise<PostprocessRuntime> {
  const { config, bus, store, logger } = options;
  return startService({
    name: 'postprocess',
    config,
    logger,
    protoFiles: [kzrProtoFiles.postprocess],
    setUp: async (lifecycle) => {
      const service = createPostprocessService(logger, {
        store,
        bus,
        filterCacheSize: config.filterCacheSize,
        maxCharactersPerPage: config.maxCharactersPerPage,
        ...(options.filters ? { filters: options.filters } : {}),
        ...(options.durable !== undefined ? { durable: options.durable } : {}),
      });
      const swaps = await service.startHotSwap();
      if (swaps) lifecycle.onDrain(DrainPhase.Intake, 'postprocess-filter-swaps', (graceMs) => swaps.stop(graceMs));
      return { services: [service], expose: { filters: service.filters } };
    },
  });
}
