/**
 * Gathers the run report (`results/<run>/report.html`, rendered by `../report/render.ts`) at
 * the end of the final-infer phase, which holds every stage's scores and the final pages: the
 * training histories of every model phase (found through the run record, since first-train is
 * not an input of final-infer), the augmentation preview of the first model, the final filter's
 * feature importance and effect, and overlays of a few test pages.
 */
import {
  preprocessedPageKey,
  readPhaseManifest,
  readPhaseMember,
  readRunRecord,
  resultKey,
  type StageRow,
} from '@kzr/artifacts';
import type { CharLabel } from '@kzr/core';
import { type ClassifiedPage, falsePositiveLabels } from '@kzr/core/postprocess';
import { featureImportance } from '@kzr/gbdt';
import { decodeImage, encodeJpeg, resizeBicubic } from '@kzr/imaging';
import { curveSvg, type EpochMetrics, parseModelConfig } from '@kzr/ml';
import { buildPhaseGraph, PhaseName, reduceRunState } from '@kzr/pipeline';

import { augmentationPreview } from '../report/preview.js';
import { type BoxOutcome, type ReportModel, type ReportPage, renderRunReport } from '../report/render.js';
import type { PhaseContext } from './context.js';
import { labelledCrops } from './crops.js';
import type { PhaseDataset } from './dataset.js';
import type { RunFilter } from './filter.js';
import { readSplit, splitShards } from './split.js';

/** Test pages drawn with their boxes (each carries two images). */
const reportPageCount = 3;
/** Crops in the augmentation preview grid. */
const previewCount = 36;
/** Page images are scaled to at most this width, to keep the file small. */
const pageImageWidth = 640;

/** What the final-infer phase hands over. */
export interface FinalStageResult {
  readonly rows: readonly StageRow[];
  readonly pseudoLabels: { readonly count: number; readonly precision: number };
  /** The final stage's test pages before the filter, and each candidate's P(correct). */
  readonly candidates: readonly ClassifiedPage[];
  readonly pCorrect: readonly Float64Array[];
  readonly filter: RunFilter;
}

/** The training histories of the run's model phases, in graph order. */
async function modelHistories(ctx: PhaseContext): Promise<ReportModel[]> {
  const record = await readRunRecord(ctx.store, ctx.run);
  const graph = buildPhaseGraph(record.spec);
  const state = reduceRunState(graph, record.events);
  const training = new Set<string>([PhaseName.FirstTrain, PhaseName.SecondTrain, PhaseName.Refine]);
  const models: ReportModel[] = [];
  for (const node of graph.phases) {
    const phase = state.phases.get(node.id);
    if (!training.has(node.phase) || phase?.manifestKey === undefined) continue;
    const manifest = await readPhaseManifest(ctx.store, phase.manifestKey, phase.manifestSha256);
    const member = manifest.members.find((m) => m.key === 'history.json');
    if (member === undefined) continue;
    const history = JSON.parse(
      (await readPhaseMember(ctx.store, phase.manifestKey, member)).toString('utf8'),
    ) as EpochMetrics[];
    models.push({ phase: node.id, history, curveSvg: curveSvg(history) });
  }
  return models;
}

/** Each candidate's outcome: kept or removed by the filter, right or wrong against the truth. */
function outcomes(page: ClassifiedPage, p: Float64Array, threshold: number, truth: readonly CharLabel[]): BoxOutcome[] {
  const correct = falsePositiveLabels(page, truth);
  return page.boxes.map((_, i) => {
    const kept = p[i]! >= threshold;
    if (kept) return correct[i] === 1 ? 'correct' : 'wrong';
    return correct[i] === 1 ? 'removed-correct' : 'removed-wrong';
  });
}

/** A stored page image as a JPEG data URI at most `width` wide. */
async function pageImage(bytes: Buffer, width: number): Promise<string> {
  const image = await decodeImage(bytes);
  const scaled =
    image.width <= width
      ? image
      : resizeBicubic(image, width, Math.max(1, Math.round((image.height * width) / image.width)));
  return `data:image/jpeg;base64,${(await encodeJpeg(scaled)).toString('base64')}`;
}

/** A test page's overlay, boxes and images in the scaled page's pixels. */
async function reportPage(
  ctx: PhaseContext,
  data: PhaseDataset,
  page: ClassifiedPage,
  outcome: readonly BoxOutcome[],
): Promise<ReportPage> {
  const scale = Math.min(1, pageImageWidth / page.width);
  const at = (v: number): number => Math.round(v * scale * 10) / 10;
  return {
    pageId: page.pageId,
    width: Math.round(page.width * scale),
    height: Math.round(page.height * scale),
    raw: await pageImage(await ctx.store.getBytes(data.pageKeys.get(page.pageId)!), pageImageWidth),
    preprocessed: await pageImage(
      await ctx.store.getBytes(preprocessedPageKey(ctx.dataset, page.pageId)),
      pageImageWidth,
    ),
    boxes: page.boxes.map((b, i) => ({
      code: b.code,
      x: at(b.x),
      y: at(b.y),
      width: at(b.width),
      height: at(b.height),
      outcome: outcome[i]!,
    })),
  };
}

/** The first model's training crops through its augmentation, as a PNG data URI. */
async function preview(ctx: PhaseContext): Promise<{ image: string; caption: string } | undefined> {
  const model = ctx.spec.models[0];
  if (model === undefined) return undefined;
  const split = await readSplit(ctx, model.split);
  const rows = split.train.slice(0, previewCount);
  if (rows.length === 0) return undefined;
  const crops = await labelledCrops(await splitShards(ctx, split), rows);
  const config = parseModelConfig(model.config, `spec.models.${model.name}.config`);
  const png = await augmentationPreview(config, crops, previewCount);
  return {
    image: `data:image/png;base64,${png.toString('base64')}`,
    caption: `${crops.length} training crops of split ${model.split} as ${model.name}'s augmentation draws them in its first epoch`,
  };
}

/** Renders the run report and stores it as `results/<run>/report.html`; returns its key. */
export async function writeRunReport(ctx: PhaseContext, data: PhaseDataset, final: FinalStageResult): Promise<string> {
  const counts: Record<BoxOutcome, number> = { correct: 0, wrong: 0, 'removed-correct': 0, 'removed-wrong': 0 };
  const removed = { correct: [] as string[], wrong: [] as string[] };
  const pages: ReportPage[] = [];
  for (const [i, page] of final.candidates.entries()) {
    const outcome = outcomes(page, final.pCorrect[i]!, final.filter.threshold, data.truth.get(page.pageId) ?? []);
    outcome.forEach((o, k) => {
      counts[o]++;
      if (o === 'removed-correct') removed.correct.push(page.boxes[k]!.code);
      if (o === 'removed-wrong') removed.wrong.push(page.boxes[k]!.code);
    });
    if (pages.length < reportPageCount && page.boxes.length > 0) pages.push(await reportPage(ctx, data, page, outcome));
  }
  const importance = new Map<string, number>();
  for (const booster of final.filter.boosters) {
    for (const f of featureImportance(booster)) importance.set(f.feature, (importance.get(f.feature) ?? 0) + f.splits);
  }
  const html = renderRunReport({
    run: ctx.run,
    dataset: ctx.dataset,
    preset: ctx.spec.preset ?? 'none (a spec file)',
    stages: final.rows,
    pseudoLabels: final.pseudoLabels,
    models: await modelHistories(ctx),
    ...(await preview(ctx).then((p) => (p === undefined ? {} : { preview: p }))),
    filter: {
      threshold: final.filter.threshold,
      importance: [...importance].map(([feature, splits]) => ({ feature, splits })).sort((a, b) => b.splits - a.splits),
      outcomes: counts,
      removed,
    },
    pages,
  });
  const key = resultKey(ctx.run, 'report.html');
  await ctx.store.put(key, Buffer.from(html), { contentType: 'text/html' });
  return key;
}
