/**
 * The JetStream worker: on `kzr.pages.ingested`, preprocess every page (Ben + denoise) into
 * `preprocessed/<dataset>/<page>.png`, cut its ground-truth characters with training padding
 * at native size, write the dataset shards `crops/<dataset>/train/shard-NNNNN.bin` and their
 * `index.json`, then publish `kzr.crops.ready`.
 *
 * Idempotent: a preprocessed page made from the same source bytes is reused, outputs are deterministic (same bytes,
 * same sha256 on a rerun), `index.json` is written last, and the `kzr.crops.ready` id is derived
 * from the index's sha256, so a redelivery after a crash between "stored" and "acked" republishes
 * the same id and the Bus drops the duplicate. The message is acked only after all of it is
 * stored. Replicas share the durable consumer `preprocess`.
 */
import { cropIndexKey, cropShardKey, cropsPrefix, datasetPagesPrefix, preprocessedPageKey } from '@kzr/artifacts';
import { type PageLabels, parseTrainCsv, requireBookId } from '@kzr/core';
import {
  cutCharacter,
  decodeImage,
  encodePng,
  PaddingPolicy,
  preprocessPage,
  type RawImage,
  ShardWriter,
} from '@kzr/imaging';
import {
  type Bus,
  EventSubject,
  type Logger,
  NotFoundError,
  type Store,
  type Subscription,
  ValidationError,
} from '@kzr/platform';

/** Options of {@link startPreprocessWorker}. */
export interface PreprocessWorkerOptions {
  readonly bus: Bus;
  readonly store: Store;
  readonly logger: Logger;
  /** Durable consumer name shared by replicas. @default 'preprocess' */
  readonly durable?: string;
  /** Worker threads for the page filters. @default os.availableParallelism() */
  readonly threads?: number;
  /** Largest page in pixels. @default 60_000_000 */
  readonly maxPagePixels?: number;
  /** Shard size. @default 64 MiB */
  readonly maxShardBytes?: number;
  /** How long a delivery may stay unacked before it is redelivered. @default 10 min */
  readonly ackWaitMs?: number;
  /** Delays before retrying a failed delivery. @default the Bus's (1 s, 10 s, 60 s) */
  readonly retryDelaysMs?: readonly number[];
  /**
   * Age after which a shard no index lists is removed, when the index of its split is written
   * (what a killed run, or an earlier run with more crops, left). Younger ones may belong to a
   * run in progress on another replica, so they stay.
   * @default 1 h
   */
  readonly staleShardMs?: number;
  /**
   * Test hook, called after every output is stored and before the ack (and before
   * `kzr.crops.ready`): a throw here stands for a crash at the worst moment.
   */
  readonly afterOutputsStored?: (dataset: string) => Promise<void>;
}

/**
 * The durable consumer of `kzr.pages.ingested` that replicas share. Events wait on it while no
 * worker runs; the chart's KEDA ScaledObject scales the worker on its pending count.
 */
export const preprocessDurable = 'preprocess';

/** The split name of the crops a dataset's labels give. */
export const groundTruthSplit = 'train';

/**
 * Removes the objects under `prefix` that `keep` does not list and that are older than
 * `olderThanMs`: the shards of a split that its index, written last, does not reference.
 */
async function sweepUnreferenced(
  store: Store,
  prefix: string,
  keep: ReadonlySet<string>,
  olderThanMs: number,
): Promise<string[]> {
  const cutoff = Date.now() - olderThanMs;
  const stale = (await store.list(prefix)).filter((o) => !keep.has(o.key) && o.lastModified.getTime() < cutoff);
  for (const o of stale) await store.delete(o.key);
  return stale.map((o) => o.key);
}

/** The source sha256 a preprocessed page was made from; undefined when there is none. */
async function preprocessedFrom(store: Store, key: string): Promise<string | undefined> {
  try {
    return (await store.stat(key)).metadata['source-sha256'];
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * Processes one `kzr.pages.ingested` event; returns the published `kzr.crops.ready` id, if any.
 * `signal` stops it before the next page (the worker drains; the Bus has returned the delivery).
 */
export async function handlePagesIngested(
  event: { dataset: string; pageIds: readonly string[]; labelsKey: string },
  options: PreprocessWorkerOptions,
  onProgress: () => void = () => {},
  signal?: AbortSignal,
): Promise<string | undefined> {
  const { store, bus, logger } = options;
  const { dataset } = event;
  const pagesPrefix = datasetPagesPrefix(dataset);
  const pageKeys = new Map<string, { key: string; sha256: string }>();
  for (const info of await store.list(pagesPrefix)) {
    const name = info.key.slice(pagesPrefix.length);
    pageKeys.set(name.slice(0, name.lastIndexOf('.')), { key: info.key, sha256: info.sha256 });
  }
  let labels = new Map<string, PageLabels>();
  if (event.labelsKey !== '') {
    const text = (await store.getBytes(event.labelsKey)).toString('utf8');
    labels = new Map(parseTrainCsv(text, event.labelsKey).map((p) => [p.pageId, p]));
  }
  const writer = new ShardWriter({ maxShardBytes: options.maxShardBytes });
  const shardKeys: string[] = [];
  const storeShard = async (shard: { name: string; bytes: Buffer } | undefined): Promise<void> => {
    if (!shard) return;
    const key = cropShardKey(dataset, groundTruthSplit, shard.name);
    await store.put(key, shard.bytes);
    shardKeys.push(key);
  };
  for (const pageId of event.pageIds) {
    signal?.throwIfAborted();
    onProgress();
    const outKey = preprocessedPageKey(dataset, pageId);
    const source = pageKeys.get(pageId);
    if (source === undefined) {
      throw new ValidationError('page_ids', `page ${pageId} is not stored under ${pagesPrefix}`);
    }
    let page: RawImage;
    // Reuse a preprocessed page only if it was made from the same source bytes.
    if ((await preprocessedFrom(store, outKey)) === source.sha256) {
      page = await decodeImage(await store.getBytes(outKey), { maxPixels: options.maxPagePixels });
    } else {
      const raw = await decodeImage(await store.getBytes(source.key), {
        maxPixels: options.maxPagePixels,
        field: source.key,
      });
      page = await preprocessPage(raw, { threads: options.threads });
      await store.put(outKey, await encodePng(page), {
        contentType: 'image/png',
        metadata: { 'source-sha256': source.sha256 },
      });
    }
    const pageLabels = labels.get(pageId);
    if (pageLabels === undefined) continue;
    const book = requireBookId(pageId);
    for (const [i, label] of pageLabels.labels.entries()) {
      const cut = cutCharacter(page, label, { policy: PaddingPolicy.Train, field: `${pageId}.labels[${i}]` });
      await storeShard(
        writer.add(cut.image, {
          label: label.code,
          page: pageId,
          book,
          box: [label.x, label.y, label.width, label.height],
        }),
      );
    }
  }
  if (labels.size === 0) {
    logger.info('pages preprocessed; no labels, so no crops', { dataset, pages: event.pageIds.length });
    return undefined;
  }
  const { shard, index } = writer.finish();
  await storeShard(shard);
  const indexKey = cropIndexKey(dataset, groundTruthSplit);
  const written = await store.put(indexKey, Buffer.from(`${JSON.stringify(index)}\n`), {
    contentType: 'application/json',
  });
  const swept = await sweepUnreferenced(
    store,
    cropsPrefix(dataset, groundTruthSplit),
    new Set([...shardKeys, indexKey]),
    options.staleShardMs ?? 3_600_000,
  );
  if (swept.length > 0) logger.info('unreferenced shards removed', { dataset, keys: swept });
  signal?.throwIfAborted();
  await options.afterOutputsStored?.(dataset);
  const id = `crops-ready-${dataset}-${groundTruthSplit}-${written.sha256.slice(0, 16)}`;
  await bus.publish(
    EventSubject.CropsReady,
    {
      meta: undefined,
      dataset,
      split: groundTruthSplit,
      shardKeys,
      indexKey,
      cropCount: index.count,
    },
    { id },
  );
  logger.info('crops ready', { dataset, crops: index.count, shards: shardKeys.length });
  return id;
}

/**
 * Starts consuming `kzr.pages.ingested` on the shared durable consumer. Stop it with the drain's
 * grace (`stop(graceMs)`): a dataset not finished by then goes back to the stream for another
 * replica, and this one stops before its next page.
 */
export async function startPreprocessWorker(options: PreprocessWorkerOptions): Promise<Subscription> {
  return options.bus.consume(
    {
      durable: options.durable ?? preprocessDurable,
      filterSubject: EventSubject.PagesIngested,
      ackWaitMs: options.ackWaitMs ?? 10 * 60_000,
      retryDelaysMs: options.retryDelaysMs,
      maxInFlight: 1,
    },
    // Returning acks the delivery (the Bus's handler contract), so only once all of it is stored.
    async (message) => {
      await handlePagesIngested(message.event, options, () => message.working(), message.signal);
    },
  );
}
