/**
 * How a run's phases recognise pages: the models of a stage are published as a model set of the
 * run (`eval-<run>`, version = the stage, removed afterwards), and the dataset's pages go through RecognizePage of
 * the in-process page path (the preprocess phase's pages, sent as preprocessed), unfiltered, so each stage is scored exactly as it would be served
 * (DESIGN.md "The page path"). The filter is fitted and applied here, from the merged candidates.
 */
import { MediaType } from '@kzr/api/kzr/v1/common';
import { type RecognizePageResponse, Voting } from '@kzr/api/kzr/v1/inference';
import {
  type CheckpointMember,
  loadStoredCheckpointMember,
  modelSetManifestKey,
  modelSetVersionPrefix,
  PagePreprocessing,
  preprocessedPageKey,
  publishModelSet,
  storeCheckpointStorage,
} from '@kzr/artifacts';
import { type F1Score, type PageLabels, scoreSubmission } from '@kzr/core';
import {
  type ClassifiedPage,
  FP_FEATURE_COUNT,
  falsePositiveFeatures,
  keepBoxes,
  submissionRows,
} from '@kzr/core/postprocess';
import { type Booster, predictMean } from '@kzr/gbdt';
import type { PhaseId } from '@kzr/pipeline';

import { recognizeAll, startPagePath } from '../page-path.js';
import { inputOf, type PhaseContext } from './context.js';
import type { PhaseDataset } from './dataset.js';

/** The checkpoint a training phase kept (its manifest's `checkpoint`), loaded from the Store; the caller disposes it. */
export async function loadPhaseModel(ctx: PhaseContext, id: PhaseId): Promise<CheckpointMember> {
  const input = inputOf(ctx, id);
  const folder = input.key.slice(0, input.key.lastIndexOf('/'));
  const checkpoint = input.manifest.summary.checkpoint as string;
  return loadStoredCheckpointMember(storeCheckpointStorage(ctx.store, folder), checkpoint);
}

/**
 * Publishes the checkpoints of the training phases `models` as version `stage` of the run's
 * evaluation model set; returns its name. Every member must have the same class list.
 */
async function publishStage(ctx: PhaseContext, stage: string, models: readonly PhaseId[]): Promise<string> {
  const loaded: CheckpointMember[] = [];
  try {
    for (const id of models) loaded.push(await loadPhaseModel(ctx, id));
    const codes = loaded[0]!.classes;
    for (const [i, m] of loaded.entries()) {
      if (m.classes.join(' ') !== codes.join(' ')) {
        throw new Error(
          `${models[i]} was trained on other classes than ${models[0]}; a model set needs one class list`,
        );
      }
    }
    const modelSet = `eval-${ctx.run}`;
    await publishModelSet(ctx.store, {
      modelSet,
      version: stage,
      codes,
      members: loaded.map((m, i) => ({
        name: models[i]!.replace('/', '-'),
        kind: 'kzr',
        model: m.model,
        input: m.input,
      })),
      pagePreprocessing: PagePreprocessing.BenDenoise,
    });
    return modelSet;
  } finally {
    for (const m of loaded) m.model.dispose();
  }
}

/** A RecognizePage answer as the filter and the scorer take it. */
export function classifiedPage(res: RecognizePageResponse): ClassifiedPage {
  return {
    pageId: res.pageId,
    width: res.pageWidth,
    height: res.pageHeight,
    boxes: res.characters.map((c) => ({
      code: c.code,
      probability: c.probability,
      score: c.detectorScore,
      x: c.box!.x,
      y: c.box!.y,
      width: c.box!.width,
      height: c.box!.height,
    })),
  };
}

/** Pages to recognise and how the models vote on them. */
export interface StagePass {
  readonly voting: 'soft' | 'hard';
  readonly pages: readonly string[];
}

/**
 * Recognises the dataset's pages of each pass with the models of the training phases `models`
 * (published once, one page path for every pass), every merged candidate kept (no filter);
 * returns the pages of each pass in order.
 */
export async function recognizeStage(
  ctx: PhaseContext,
  data: PhaseDataset,
  options: { stage: string; models: readonly PhaseId[]; passes: readonly StagePass[] },
): Promise<ClassifiedPage[][]> {
  const modelSet = await publishStage(ctx, options.stage, options.models);
  const request = async (pageId: string, voting: StagePass['voting']) => ({
    model: { modelSet, version: options.stage },
    pageId,
    image: {
      source: {
        $case: 'encoded' as const,
        // The preprocess phase stored every page Ben-filtered and denoised, as the set's manifest asks.
        value: {
          data: await ctx.store.getBytes(preprocessedPageKey(ctx.dataset, pageId)),
          mediaType: MediaType.MEDIA_TYPE_UNSPECIFIED,
        },
      },
    },
    preprocessed: true,
    detectionSets: data.detectionSets.map((set) => ({
      name: set.name,
      pageId,
      detections: (set.pages.find((p) => p.pageId === pageId)?.detections ?? []).map((d) => ({
        box: { x: d.x, y: d.y, width: d.width, height: d.height },
        score: d.score,
      })),
    })),
    voting: voting === 'hard' ? Voting.VOTING_HARD : Voting.VOTING_SOFT,
    lowConfidenceThreshold: 0,
    filterVersion: '',
    unfiltered: true,
    tta: ctx.spec.inference.tta,
  });
  try {
    const path = await startPagePath(ctx.store, ctx.logger, modelSet, options.stage);
    try {
      const results: ClassifiedPage[][] = [];
      for (const pass of options.passes) {
        const requests = [];
        for (const pageId of pass.pages) requests.push(await request(pageId, pass.voting));
        const answers = await recognizeAll(path.endpoint, requests);
        ctx.progress({ type: 'recognised', stage: options.stage, voting: pass.voting, pages: answers.length });
        results.push(answers.map(classifiedPage));
      }
      return results;
    } finally {
      await path.close();
    }
  } finally {
    // The stage's set existed only for this page path: it must not be what a service serves
    // as "the newest published set", manifest first so no reader sees a set half removed.
    await ctx.store.delete(modelSetManifestKey(modelSet, options.stage));
    for (const info of await ctx.store.list(modelSetVersionPrefix(modelSet, options.stage))) {
      await ctx.store.delete(info.key);
    }
  }
}

/** Each candidate's mean P(correct) under the filter `boosters`, per page. */
export function filterProbabilities(pages: readonly ClassifiedPage[], boosters: readonly Booster[]): Float64Array[] {
  return pages.map((page, i) =>
    page.boxes.length === 0
      ? new Float64Array(0)
      : predictMean(boosters, {
          numRows: page.boxes.length,
          numFeatures: FP_FEATURE_COUNT,
          values: falsePositiveFeatures(page, `pages[${i}]`),
        }),
  );
}

/** The pages with only the candidates whose P(correct) is at least `threshold`. */
export function keepFiltered(
  pages: readonly ClassifiedPage[],
  p: readonly Float64Array[],
  threshold: number,
): ClassifiedPage[] {
  return pages.map((page, i) => ({ ...page, boxes: keepBoxes(page.boxes, p[i]!, threshold) }));
}

/** The Kaggle F1 of `pages` against the dataset's truth. */
export function scorePages(data: PhaseDataset, pages: readonly ClassifiedPage[]): F1Score {
  const truth: PageLabels[] = pages.map((p) => ({ pageId: p.pageId, labels: [...(data.truth.get(p.pageId) ?? [])] }));
  return scoreSubmission(truth, submissionRows(pages));
}
