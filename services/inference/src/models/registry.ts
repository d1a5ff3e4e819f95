/**
 * The model registry: which version of each model set serves now. Loading a version (on
 * start-up or on `kzr.models.published`) happens beside the serving one; the swap is one
 * assignment, so a request sees either the old or the new version, never a mix. Requests in
 * flight finish on the old version, which is then disposed. A version that fails to load leaves
 * the current one serving; {@link ModelRegistry.status} and the log say why.
 */
import { checkSegment, newestModelSetVersion, readPromotion, servedModelSetVersion } from '@kzr/artifacts';
import {
  type Bus,
  EventSubject,
  NotFoundError,
  NotReadyError,
  type Store,
  type Subscription,
  ValidationError,
} from '@kzr/platform';

import { loadModelSet, type LoadedModelSet, type LoadOptions } from './load-model-set.js';

/** Options of {@link ModelRegistry}. */
export type RegistryOptions = LoadOptions;

/** What {@link ModelRegistry.status} reports for a set. */
export interface ModelSetStatus {
  readonly modelSet: string;
  /** `ready` once a version serves; `loading` before the first one; `failed` when none could load. */
  readonly state: 'loading' | 'ready' | 'failed';
  /** The version serving now, if any. */
  readonly version?: string;
  /** The version being loaded, if any. */
  readonly loadingVersion?: string;
  /** Why the last load failed (the current version keeps serving). */
  readonly lastError?: { readonly version: string; readonly message: string; readonly at: string };
}

interface SetEntry {
  current: LoadedModelSet | undefined;
  /** Versions asked for and not yet loaded or failed, in order. */
  pending: string[];
  lastError: ModelSetStatus['lastError'];
  /** Serialises loads of one set, in arrival order. */
  chain: Promise<unknown>;
}

/** A request's hold on one version; release it when the request is done. */
export interface ModelLease extends Disposable {
  readonly set: LoadedModelSet;
  release(): void;
}

/** Holds the serving version of every known model set. */
export class ModelRegistry implements AsyncDisposable {
  private readonly options: RegistryOptions;
  private readonly sets = new Map<string, SetEntry>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly statusListeners = new Set<(status: ModelSetStatus) => void>();
  private closed = false;

  constructor(options: RegistryOptions) {
    this.options = options;
  }

  /** The Store the registry reads from. */
  get store(): Store {
    return this.options.store;
  }

  private entry(modelSet: string): SetEntry {
    let e = this.sets.get(modelSet);
    if (!e) {
      e = { current: undefined, pending: [], lastError: undefined, chain: Promise.resolve() };
      this.sets.set(modelSet, e);
    }
    return e;
  }

  /**
   * Loads, verifies and warms a version, then makes it the serving one; the previous version is
   * retired (disposed after its requests finish). Loads of one set run one after another.
   * Rejects with a ModelLoadError when the version fails; the current one keeps serving.
   */
  activate(modelSet: string, version: string): Promise<LoadedModelSet> {
    checkSegment('modelSet', modelSet);
    checkSegment('version', version);
    if (this.closed) return Promise.reject(new NotReadyError('the model registry is closed'));
    const e = this.entry(modelSet);
    e.pending.push(version);
    this.notify(modelSet);
    const run = async (): Promise<LoadedModelSet> => {
      try {
        if (e.current?.version === version) return e.current;
        const loaded = await loadModelSet(modelSet, version, this.options);
        if (this.closed) {
          await loaded.retire();
          throw new NotReadyError('the model registry closed during the load');
        }
        const old = e.current;
        e.current = loaded; // the swap: new requests take the new version from here on
        e.lastError = undefined;
        this.options.logger?.info('model set version serving', {
          modelSet,
          version,
          previous: old?.version ?? '',
        });
        if (old) this.track(old.retire());
        return loaded;
      } catch (err) {
        const message = (err as Error).message;
        e.lastError = { version, message, at: new Date().toISOString() };
        this.options.logger?.error('model set version failed to load; the current one keeps serving', {
          modelSet,
          version,
          serving: e.current?.version ?? '',
          error: message,
        });
        throw err;
      } finally {
        e.pending.splice(e.pending.indexOf(version), 1);
        this.notify(modelSet);
      }
    };
    const next = e.chain.then(run, run);
    e.chain = next.catch(() => undefined);
    return next;
  }

  private track(p: Promise<void>): void {
    this.retiring.add(p);
    void p.finally(() => this.retiring.delete(p));
  }

  /**
   * Takes a lease on the serving version of `modelSet` (and checks `version` when given).
   * @throws ValidationError for a name that is no Store key segment (`../x`, `%2e%2e`);
   *   NotFoundError for a set the registry does not know; NotReadyError while its first
   *   version loads or when every load failed.
   */
  acquire(modelSet: string, version = ''): ModelLease {
    checkSegment('modelSet', modelSet);
    if (version !== '') checkSegment('version', version);
    const e = this.sets.get(modelSet);
    if (!e) throw new NotFoundError(`model set ${JSON.stringify(modelSet)}`);
    const set = e.current;
    if (!set) {
      throw new NotReadyError(
        e.pending.length > 0
          ? `model set ${modelSet} is loading version ${e.pending[0]}`
          : `model set ${modelSet} has no loaded version${e.lastError ? `: ${e.lastError.message}` : ''}`,
      );
    }
    if (version !== '' && version !== set.version) {
      throw new NotFoundError(`model set ${modelSet} version ${JSON.stringify(version)} (serving ${set.version})`);
    }
    set.acquire();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      set.release();
    };
    return { set, release, [Symbol.dispose]: release };
  }

  /** Status of one set; ValidationError for a name that is no key segment, NotFoundError for an unknown one. */
  status(modelSet: string): ModelSetStatus {
    checkSegment('modelSet', modelSet);
    const e = this.sets.get(modelSet);
    if (!e) throw new NotFoundError(`model set ${JSON.stringify(modelSet)}`);
    const state = e.current ? 'ready' : e.pending.length > 0 ? 'loading' : 'failed';
    return {
      modelSet,
      state,
      ...(e.current ? { version: e.current.version } : {}),
      ...(e.pending.length > 0 ? { loadingVersion: e.pending[0] } : {}),
      ...(e.lastError ? { lastError: e.lastError } : {}),
    };
  }

  /**
   * Calls `listener` with the status of every known set now and after each change (a load
   * starts, a version serves, a load fails); returns the unsubscribe function.
   */
  onStatus(listener: (status: ModelSetStatus) => void): () => void {
    this.statusListeners.add(listener);
    for (const name of this.modelSets()) listener(this.status(name));
    return () => this.statusListeners.delete(listener);
  }

  private notify(modelSet: string): void {
    const status = this.status(modelSet);
    for (const listener of this.statusListeners) {
      try {
        listener(status);
      } catch (err) {
        this.options.logger?.warn('model set status listener failed', { modelSet, err });
      }
    }
  }

  /** True when at least one set is known and every known set has a serving version. */
  ready(): boolean {
    const names = this.modelSets();
    return names.length > 0 && names.every((name) => this.sets.get(name)?.current !== undefined);
  }

  /** Rows waiting in the batchers of every serving version. */
  queueDepth(): number {
    let rows = 0;
    for (const e of this.sets.values()) for (const m of e.current?.members ?? []) rows += m.batcher.queueDepth;
    return rows;
  }

  /** Names of the known sets. */
  modelSets(): string[] {
    return [...this.sets.keys()].sort();
  }

  /**
   * The version of `modelSet` to serve (the promoted one, else the newest published), or of the
   * set with the newest version when `modelSet` is omitted; undefined when the Store holds none.
   */
  async servedVersion(modelSet?: string): Promise<{ modelSet: string; version: string } | undefined> {
    const name = modelSet ?? (await newestModelSetVersion(this.store))?.modelSet;
    if (name === undefined) return undefined;
    const version = await servedModelSetVersion(this.store, name);
    return version === undefined ? undefined : { modelSet: name, version };
  }

  /**
   * Follows `kzr.models.published` on a durable consumer: each event loads and swaps in its
   * version, unless another version of the set is promoted (a pinned set keeps serving its
   * promoted version; promote and rollback announce theirs). A version that fails to load is terminated on the Bus (dead letter with the
   * reason) and the current version keeps serving.
   */
  async follow(bus: Bus, durable = 'inference-models'): Promise<Subscription> {
    return bus.consume({ durable, filterSubject: EventSubject.ModelsPublished, maxInFlight: 1 }, async (message) => {
      const ref = message.event.model;
      if (!ref?.modelSet || !ref.version)
        throw new ValidationError('event.model', 'model set and version are required');
      const promoted = (await readPromotion(this.store, ref.modelSet))?.version;
      if (promoted !== undefined && promoted !== ref.version) {
        this.options.logger?.info('published version not served: another is promoted', { ...ref, promoted });
        return;
      }
      await this.activate(ref.modelSet, ref.version);
    });
  }

  /** Retires every version and waits until they are disposed. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.sets.values()].map((e) => e.chain));
    for (const e of this.sets.values()) {
      if (e.current) this.track(e.current.retire());
      e.current = undefined;
    }
    await Promise.allSettled([...this.retiring]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
