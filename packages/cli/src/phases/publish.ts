/**
 * The publish phase (DESIGN.md "Runs" 10): the refined models become version `<run>` of the
 * run's model set and the final filter filter version `<run>`; both are announced on the Bus, so
 * running inference and postprocess services hot-swap.
 */
import {
  type CheckpointMember,
  modelSetManifestKey,
  PagePreprocessing,
  publishModelSet,
  StoreFilterRepository,
} from '@kzr/artifacts';
import { PhaseName, phaseId } from '@kzr/pipeline';
import { EventSubject } from '@kzr/platform';

import { inputOf, type PhaseBody } from './context.js';
import { readRunFilter } from './filter.js';
import { loadPhaseModel } from './recognition.js';

export const publishPhase: PhaseBody = async (ctx) => {
  const modelSet = ctx.spec.publish.modelSet;
  const version = ctx.run;
  const loaded: CheckpointMember[] = [];
  try {
    for (const model of ctx.spec.models) loaded.push(await loadPhaseModel(ctx, phaseId(PhaseName.Refine, model.name)));
    await publishModelSet(ctx.store, {
      modelSet,
      version,
      codes: loaded[0]!.classes,
      members: loaded.map((m, i) => ({ name: ctx.spec.models[i]!.name, kind: 'kzr', model: m.model, input: m.input })),
      voting: 'hard',
      pagePreprocessing: PagePreprocessing.BenDenoise,
    });
  } finally {
    for (const m of loaded) m.model.dispose();
  }
  const filter = await readRunFilter(ctx, inputOf(ctx, PhaseName.FinalInfer));
  const keys = await new StoreFilterRepository(ctx.store).save(
    {
      version,
      boosters: [...filter.boosters],
      featureNames: filter.boosters[0]!.featureNames,
      threshold: filter.threshold,
    },
    filter.fit,
  );
  await ctx.bus.publish(
    EventSubject.ModelsPublished,
    {
      meta: undefined,
      model: { modelSet, version },
      manifestKey: modelSetManifestKey(modelSet, version),
      runId: ctx.run,
    },
    { id: `models-published-${modelSet}-${version}` },
  );
  await ctx.bus.publish(
    EventSubject.FilterPublished,
    { meta: undefined, version, threshold: filter.threshold, ...keys },
    { id: `filter-${version}` },
  );
  return { members: [], summary: { modelSet, version, filterVersion: version } };
};
