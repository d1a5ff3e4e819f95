/**
 * Crops of a run's phases as training takes them: records of a shard index in the Store (the
 * dataset's ground-truth crops, or a pseudo-label phase's crops) decoded into labelled crops.
 */
import type { ShardIndex } from '@kzr/imaging';
import type { LabelledCrop } from '@kzr/ml';
import type { Store } from '@kzr/platform';

/** A shard index read from the Store, with the folder its shards are in. */
export interface StoredShards {
  readonly index: ShardIndex;
  /** Shard bytes, in `index.shards` order. */
  readonly shards: readonly Buffer[];
}

/** Reads the shard index at `indexKey` (verified against `sha256`) and its shards beside it. */
export async function readStoredShards(store: Store, indexKey: string, sha256?: string): Promise<StoredShards> {
  const { parseShardIndex } = await import('@kzr/imaging');
  const index = parseShardIndex(
    JSON.parse((await store.getBytes(indexKey, sha256 ? { sha256 } : {})).toString('utf8')),
  );
  const folder = indexKey.slice(0, indexKey.lastIndexOf('/') + 1);
  const shards = await Promise.all(index.shards.map((name) => store.getBytes(`${folder}${name}`)));
  return { index, shards };
}

/** The records `rows` (indices into the index) of `stored` as labelled crops. */
export async function labelledCrops(
  stored: StoredShards,
  rows: readonly number[],
  pseudo = false,
): Promise<LabelledCrop[]> {
  const { readShardRecordAt } = await import('@kzr/imaging');
  return rows.map((i) => {
    const r = stored.index.records[i]!;
    return { image: readShardRecordAt(stored.shards[r.shard]!, r.offset), label: r.label, book: r.book, pseudo };
  });
}
