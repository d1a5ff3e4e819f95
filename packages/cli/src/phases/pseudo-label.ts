/**
 * The pseudo-label phase (spec §7.1-7.2): a test-page candidate of the first stage becomes a
 * training crop when the first filter's mean P(correct) and its soft-vote probability both reach
 * the run's thresholds. It is cut from the preprocessed page with 5 % of the mean side per
 * side and stored as shards (`pseudo/`) that both second trainings append. The summary counts
 * them and says how many agree with the test books' truth (used for that count only).
 */
import { type FileRef, preprocessedPageKey, writePhaseMember } from '@kzr/artifacts';
import { requireBookId } from '@kzr/core';
import { falsePositiveLabels } from '@kzr/core/postprocess';
import { cutCharacter, decodeImage, PaddingPolicy, ShardWriter } from '@kzr/imaging';
import { PhaseName } from '@kzr/pipeline';

import { inputOf, type PhaseBody, readJsonMember } from './context.js';
import { readPhaseDataset } from './dataset.js';
import { readPages } from './first-stage.js';

export const pseudoLabelPhase: PhaseBody = async (ctx) => {
  const data = await readPhaseDataset(ctx.store, ctx.dataset, ctx.spec);
  const test = await readPages(ctx, inputOf(ctx, PhaseName.FirstInfer), 'test.json');
  const p = await readJsonMember<number[][]>(ctx, inputOf(ctx, PhaseName.FirstFilter), 'test-p.json');
  const { minFilterProbability, minVoteProbability } = ctx.spec.pseudoLabel;
  const writer = new ShardWriter();
  const members: FileRef[] = [];
  const storeShard = async (shard: { name: string; bytes: Buffer } | undefined): Promise<void> => {
    if (shard)
      members.push(await writePhaseMember(ctx.store, ctx.run, ctx.node.id, `pseudo/${shard.name}`, shard.bytes));
  };
  let count = 0;
  let correct = 0;
  for (const [i, page] of test.entries()) {
    const picked = page.boxes.flatMap((box, k) =>
      p[i]![k]! >= minFilterProbability && box.probability >= minVoteProbability ? [k] : [],
    );
    if (picked.length === 0) continue;
    const right = falsePositiveLabels(page, data.truth.get(page.pageId) ?? []);
    const image = await decodeImage(await ctx.store.getBytes(preprocessedPageKey(ctx.dataset, page.pageId)));
    for (const k of picked) {
      const box = page.boxes[k]!;
      const { image: crop } = cutCharacter(image, box, { policy: PaddingPolicy.Pseudo });
      await storeShard(
        writer.add(crop, {
          label: box.code,
          page: page.pageId,
          book: requireBookId(page.pageId),
          box: [box.x, box.y, box.width, box.height],
        }),
      );
      count++;
      correct += right[k]!;
    }
  }
  if (count > 0) {
    const { shard, index } = writer.finish();
    await storeShard(shard);
    members.push(
      await writePhaseMember(ctx.store, ctx.run, ctx.node.id, 'pseudo/index.json', Buffer.from(JSON.stringify(index))),
    );
  }
  return { members, summary: { count, precision: count === 0 ? 0 : correct / count } };
};
