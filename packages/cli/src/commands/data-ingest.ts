/**
 * `kzr data ingest <kaggle-dir> --dataset <name>`: stores a Kaggle-layout folder (pages,
 * train.csv, unicode_translation.csv, detections/*.json) under `datasets/<name>/` and publishes
 * `kzr.pages.ingested`. The Store is S3 when `KZR_S3_ENDPOINT` is set (with `KZR_S3_ACCESS_KEY`,
 * `KZR_S3_SECRET_KEY`, `KZR_S3_BUCKET` default `kzr`), else the embedded filesystem Store under
 * `$KZR_DATA_DIR/store`; the Bus is NATS JetStream when `KZR_NATS_URL` is set, else the
 * in-process Bus (whose event only this process sees). Prints what was stored.
 */
import { join } from 'node:path';

import { type Bus, FsStore, MemoryBus, NatsBus, readString, S3Store, type Store } from '@kzr/platform';
import { ingestKaggleDir } from '@kzr/preprocess';

import { parseCommandArgs, printJson, requireFlag, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';

async function openStore(): Promise<Store> {
  const endpoint = readString(process.env, 'KZR_S3_ENDPOINT');
  if (endpoint === undefined) {
    return FsStore.open({ root: join(compileEmbeddedConfig(process.env).dataDir, 'store') });
  }
  const need = (name: string): string => {
    const v = readString(process.env, name);
    if (v === undefined) throw new UsageError(name, 'is required when KZR_S3_ENDPOINT is set');
    return v;
  };
  return S3Store.connect({
    endpoint,
    accessKey: need('KZR_S3_ACCESS_KEY'),
    secretKey: need('KZR_S3_SECRET_KEY'),
    bucket: readString(process.env, 'KZR_S3_BUCKET') ?? 'kzr',
  });
}

async function openBus(): Promise<Bus> {
  const servers = readString(process.env, 'KZR_NATS_URL');
  return servers === undefined ? new MemoryBus() : NatsBus.connect({ servers, source: 'kzr data ingest' });
}

/** Runs the command; a folder without pages or with bad labels exits 2 before anything is stored. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { dataset: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError('<kaggle-dir>', `expected one folder, got ${positionals.length}`);
  const dataset = requireFlag(values, 'dataset');
  const store = await openStore();
  try {
    const bus = await openBus();
    try {
      const result = await ingestKaggleDir({ sourceDir: positionals[0]!, dataset, store, bus });
      printJson({ ...result, pages: result.pageIds.length, pageIds: undefined, store: store.kind, bus: bus.kind });
    } finally {
      await bus.close();
    }
  } finally {
    await store.close();
  }
  return 0;
}
