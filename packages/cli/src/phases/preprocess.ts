/**
 * The preprocess phase (DESIGN.md "Runs" 1): Ben's filter + denoise of every page of the dataset
 * and its ground-truth crops (+5 % per side) as dataset shards, done by the preprocess worker's
 * own handler (a page already preprocessed from the same bytes is reused). Its member `crops.json`
 * names the shard index and its sha256, so later phases (and the cache) see exactly which crops.
 */
import { cropIndexKey, datasetLabelsKey } from '@kzr/artifacts';
import { groundTruthSplit, handlePagesIngested } from '@kzr/preprocess';

import { type PhaseBody, writeJsonMember } from './context.js';
import { readPhaseDataset } from './dataset.js';

/** What `crops.json` of the preprocess phase holds. */
export interface CropsRef {
  readonly index: string;
  readonly sha256: string;
  readonly count: number;
}

export const preprocessPhase: PhaseBody = async (ctx) => {
  const { store, dataset } = ctx;
  const data = await readPhaseDataset(store, dataset, ctx.spec);
  const pageIds = [...data.pageKeys.keys()].sort();
  let done = 0;
  await handlePagesIngested(
    { dataset, pageIds, labelsKey: datasetLabelsKey(dataset) },
    { store, bus: ctx.bus, logger: ctx.logger },
    () => ctx.progress({ type: 'page', done: ++done, pages: pageIds.length }),
  );
  const index = cropIndexKey(dataset, groundTruthSplit);
  const stat = await store.stat(index);
  const count = (JSON.parse((await store.getBytes(index)).toString('utf8')) as { count: number }).count;
  const ref: CropsRef = { index, sha256: stat.sha256, count };
  const member = await writeJsonMember(ctx, 'crops.json', ref);
  return { members: [member], summary: { pages: pageIds.length, crops: count } };
};
