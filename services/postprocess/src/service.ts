/**
 * The `kzr.v1.Postprocess` gRPC service: NMS across classified detection sets, the
 * false-positive filter (current or named version), FinalizePage (the page path's last step), fitting new filter versions with streamed
 * progress, and the Kaggle F1. Filters live in a {@link FilterRepository} (the Store in a
 * deployment); a fitted filter is published as `kzr.filter.published`, and every replica
 * subscribed to that subject hot-swaps to it.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';

import type { CharLabel } from '@kzr/core';
import { formatSubmissionCsv, parseSubmissionCsv, parseTrainCsv, scoreSubmission } from '@kzr/core';
import { MERGE_IOU_THRESHOLD, submissionRows } from '@kzr/core/postprocess';
import { type PagePredictions, PostprocessService, type FitFilterProgress } from '@kzr/api/kzr/v1/postprocess';
import {
  MemoryFilterRepository,
  StoreFilterRepository,
  checkSegment,
  newFilterVersion,
  type Filter,
  type FilterRepository,
} from '@kzr/artifacts';
import { fitFilterSteps } from '@kzr/gbdt';
import {
  EventSubject,
  NotReadyError,
  ValidationError,
  implement,
  type Bus,
  type GrpcServiceRegistration,
  type Handlers,
  type Logger,
  type Store,
  type Subscription,
} from '@kzr/platform';

import { fromWire, pagesFromJson, toWire, type WirePage } from './convert.js';
import { applyFilter, finalizePage, mergePages } from './finalize.js';

/** Fully qualified service name, as health and reflection report it. */
export const postprocessServiceName = 'kzr.v1.Postprocess';

/** What the service keeps filters in and announces them on. */
export interface PostprocessDeps {
  /** Holds filters (`filters/<version>/`) and FitFilter's inputs. Without it filters live in memory. */
  readonly store?: Store;
  /** Where fitted filters are announced and hot swaps come from. */
  readonly bus?: Bus;
  /** Overrides where filters are kept (tests). @default a Store repository, else memory */
  readonly filters?: FilterRepository;
  /** Durable consumer name of this replica's hot-swap subscription. @default `postprocess-filters` */
  readonly durable?: string;
  /** Filter versions kept loaded (least recently used evicted). @default {@link defaultFilterCacheSize} */
  readonly filterCacheSize?: number;
  /** Most characters one page of a request may hold (RESOURCE_EXHAUSTED beyond). @default 50,000 */
  readonly maxCharactersPerPage?: number;
}

/**
 * The durable consumer of `kzr.filter.published` (the filter hot swap); the chart's KEDA
 * ScaledObject also scales postprocess on its pending count.
 */
export const filterSwapDurable = 'postprocess-filters';

/** How many loaded filter versions a service keeps by default. */
export const defaultFilterCacheSize = 4;

/**
 * The filter state of one service instance: the current version and a cache of loaded ones,
 * bounded to the `cacheSize` most recently used (requests may name any stored version, and a
 * version holds its fold boosters in memory).
 */
export class FilterState {
  readonly #repo: FilterRepository;
  /** Insertion order is recency order: a hit moves its entry to the end, eviction takes the first. */
  readonly #cache = new Map<string, Promise<Filter>>();
  readonly #cacheSize: number;
  #current: string | undefined;
  #looked = false;

  constructor(repo: FilterRepository, cacheSize = defaultFilterCacheSize) {
    if (!Number.isInteger(cacheSize) || cacheSize < 1) {
      throw new ValidationError('filterCacheSize', `expected a positive integer, got ${cacheSize}`);
    }
    this.#repo = repo;
    this.#cacheSize = cacheSize;
  }

  /** Versions held in the cache, least recently used first. */
  get cachedVersions(): string[] {
    return [...this.#cache.keys()];
  }

  get repository(): FilterRepository {
    return this.#repo;
  }

  /** Makes `version` current (a hot swap), loading it first so a broken version never becomes current. */
  async swapTo(version: string): Promise<Filter> {
    const filter = await this.get(version);
    this.#current = version;
    this.#looked = true;
    return filter;
  }

  /** The named version, or the current one when `version` is empty; UNAVAILABLE when there is none. */
  async get(version: string): Promise<Filter> {
    const filter = await this.find(version);
    if (!filter) throw new NotReadyError('no filter has been fitted yet');
    return filter;
  }

  /** The named version, or the current one when `version` is empty; undefined when none is published. */
  async find(version: string): Promise<Filter | undefined> {
    let wanted = version;
    if (wanted === '') {
      if (!this.#looked) {
        this.#current ??= await this.#repo.latest();
        this.#looked = true;
      }
      if (this.#current === undefined) return undefined;
      wanted = this.#current;
    }
    const cached = this.#cache.get(wanted);
    const loading = cached ?? this.#repo.load(wanted);
    if (cached) {
      this.#cache.delete(wanted);
    } else {
      loading.catch(() => {
        if (this.#cache.get(wanted) === loading) this.#cache.delete(wanted);
      });
    }
    this.#cache.set(wanted, loading);
    for (const oldest of this.#cache.keys()) {
      if (this.#cache.size <= this.#cacheSize) break;
      this.#cache.delete(oldest);
    }
    return loading;
  }
}

function readWirePages(pages: readonly PagePredictions[], field: string, maxCharacters?: number): WirePage[] {
  return pages.map((page, i) => fromWire(page, `${field}[${i}]`, maxCharacters));
}

/** The service's handlers, exposed for embedding and tests. */
export function createPostprocessHandlers(
  state: FilterState,
  deps: PostprocessDeps,
  logger: Logger,
): Handlers<typeof PostprocessService> {
  return {
    mergeDetections: async (request) => {
      const iou = request.iouThreshold === 0 ? MERGE_IOU_THRESHOLD : request.iouThreshold;
      if (!(iou > 0 && iou <= 1)) throw new ValidationError('iouThreshold', `expected a value in (0, 1], got ${iou}`);
      const merged = mergePages(readWirePages(request.sets, 'sets', deps.maxCharactersPerPage), iou, 'sets');
      const names = request.sets.map((s) => s.detectionSet).filter((n) => n !== '');
      return { merged: toWire(merged, [...new Set(names)].join('+') || 'merged') };
    },

    filterPredictions: async (request) => {
      const version = request.filterVersion === '' ? '' : checkSegment('filterVersion', request.filterVersion);
      const pages = readWirePages(request.pages, 'pages', deps.maxCharactersPerPage);
      if (!(request.threshold >= 0 && request.threshold <= 1)) {
        throw new ValidationError('threshold', `expected a value in [0, 1], got ${request.threshold}`);
      }
      const filter = await state.get(version);
      const kept = pages.map((page, i) => applyFilter(filter, page, request.threshold, `pages[${i}]`));
      return {
        filterVersion: filter.version,
        pages: kept.map((page, i) => toWire(page, request.pages[i]?.detectionSet ?? '')),
        submissionCsv: formatSubmissionCsv(submissionRows(kept)),
      };
    },

    finalizePage: async (request) => {
      if (request.filterVersion !== '') checkSegment('filter_version', request.filterVersion);
      return finalizePage(request, (version) => state.find(version), deps.maxCharactersPerPage);
    },

    fitFilter: async function* (request, ctx): AsyncGenerator<FitFilterProgress> {
      if (!deps.store) throw new NotReadyError('FitFilter needs a Store for its inputs; none is configured');
      if (request.predictionsKey === '') throw new ValidationError('predictionsKey', 'is empty');
      if (request.truthKey === '') throw new ValidationError('truthKey', 'is empty');
      const folds = request.folds === 0 ? 5 : request.folds;
      if (folds < 2 || folds > 20) throw new ValidationError('folds', `expected 2 to 20, got ${folds}`);
      if (request.trials > 1000) throw new ValidationError('trials', `expected at most 1000, got ${request.trials}`);
      const [predictionsBytes, truthBytes] = await Promise.all([
        deps.store.getBytes(request.predictionsKey, { signal: ctx.signal }),
        deps.store.getBytes(request.truthKey, { signal: ctx.signal }),
      ]);
      let json: unknown;
      try {
        json = JSON.parse(predictionsBytes.toString('utf8'));
      } catch (err) {
        throw new ValidationError('predictionsKey', `not JSON: ${(err as Error).message}`);
      }
      const pages = pagesFromJson(json, 'predictions', deps.maxCharactersPerPage);
      const truth = parseTrainCsv(truthBytes.toString('utf8'), request.truthKey);
      const truthByPage = new Map<string, readonly CharLabel[]>(truth.map((page) => [page.pageId, page.labels]));
      const steps = fitFilterSteps(pages, truthByPage, {
        folds,
        trials: request.trials,
        seed: Number(request.seed),
      });
      let next = steps.next();
      while (next.done !== true) {
        ctx.signal.throwIfAborted();
        const step = next.value;
        yield step.stage === 'search'
          ? { stage: 'search', trial: step.trial, fold: 0, objective: step.objective, filterVersion: '' }
          : { stage: 'cv', trial: 0, fold: folds, objective: step.objective, filterVersion: '' };
        await yieldToLoop();
        next = steps.next();
      }
      const result = next.value;
      const version = newFilterVersion();
      const filter: Filter = {
        version,
        boosters: result.boosters,
        featureNames: result.boosters[0]?.featureNames ?? [],
        threshold: result.threshold,
      };
      const keys = await state.repository.save(filter, result.fit);
      await state.swapTo(version);
      if (deps.bus) {
        await deps.bus.publish(
          EventSubject.FilterPublished,
          {
            meta: undefined,
            version,
            modelKey: keys.modelKey,
            featuresKey: keys.featuresKey,
            threshold: filter.threshold,
          },
          { id: `filter-${version}` },
        );
      }
      logger.info('filter fitted', { version, threshold: filter.threshold, ...result.fit });
      yield {
        stage: 'done',
        trial: 0,
        fold: 0,
        objective: Number(result.fit.cvLoss ?? NaN),
        filterVersion: version,
      };
    },

    score: async (request) => {
      const truth = parseTrainCsv(request.truthCsv, 'truthCsv');
      const predictions = parseSubmissionCsv(request.submissionCsv, 'submissionCsv');
      const score = scoreSubmission(truth, predictions);
      return { ...score };
    },
  };
}

/** A running service's registration plus the hot-swap subscription to close. */
export interface PostprocessServiceHandle extends GrpcServiceRegistration {
  /** The filter state (current version, cache). */
  readonly filters: FilterState;
  /** Subscribes to `kzr.filter.published` (when a Bus is given); resolves once subscribed. */
  startHotSwap(): Promise<Subscription | undefined>;
}

/** Builds the service registration for a gRPC server. */
export function createPostprocessService(logger: Logger, deps: PostprocessDeps = {}): PostprocessServiceHandle {
  const repo = deps.filters ?? (deps.store ? new StoreFilterRepository(deps.store) : new MemoryFilterRepository());
  const state = new FilterState(repo, deps.filterCacheSize);
  const handlers = createPostprocessHandlers(state, deps, logger);
  return {
    name: postprocessServiceName,
    definition: PostprocessService,
    implementation: implement(PostprocessService, handlers, logger),
    filters: state,
    startHotSwap: async () => {
      if (!deps.bus) return undefined;
      return deps.bus.consume(
        { durable: deps.durable ?? filterSwapDurable, filterSubject: EventSubject.FilterPublished },
        async (message) => {
          const { version } = message.event;
          await state.swapTo(version);
          logger.info('filter hot-swapped', { version });
        },
      );
    },
  };
}
