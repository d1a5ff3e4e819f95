/**
 * The false-positive filter of a run's stage (spec §6.2): fitted on the merged candidates of the
 * val pages (books no model trained on) with gbdt's `fitFilterSteps`, stored as the phase's
 * members `filter/fold-<k>.txt` + `filter/filter.json`, and read back by later phases.
 */
import { type FileRef, writePhaseMember } from '@kzr/artifacts';
import type { CharLabel } from '@kzr/core';
import type { ClassifiedPage } from '@kzr/core/postprocess';
import { type Booster, fitFilterSteps, formatModel, parseModel } from '@kzr/gbdt';

import { type PhaseContext, type PhaseInput, readJsonMember, readMember } from './context.js';

/** A fitted filter: the fold boosters, the keep threshold and what the fit reported. */
export interface RunFilter {
  readonly boosters: readonly Booster[];
  readonly threshold: number;
  readonly fit: Readonly<Record<string, unknown>>;
}

/** Fits the filter on `pages` against `truth` with the run's filter settings. */
export function fitRunFilter(
  ctx: PhaseContext,
  pages: readonly ClassifiedPage[],
  truth: ReadonlyMap<string, readonly CharLabel[]>,
): RunFilter {
  const { folds, searchTrials, seed } = ctx.spec.filter;
  const steps = fitFilterSteps(pages, truth, { folds, trials: searchTrials, seed });
  let next = steps.next();
  while (next.done !== true) next = steps.next();
  return next.value;
}

/** Writes the filter as members of the phase. */
export async function writeRunFilter(ctx: PhaseContext, filter: RunFilter): Promise<FileRef[]> {
  const members: FileRef[] = [];
  for (const [k, booster] of filter.boosters.entries()) {
    const file = `filter/fold-${k + 1}.txt`;
    members.push(await writePhaseMember(ctx.store, ctx.run, ctx.node.id, file, Buffer.from(formatModel(booster))));
  }
  const doc = { threshold: filter.threshold, folds: filter.boosters.length, fit: filter.fit };
  members.push(
    await writePhaseMember(ctx.store, ctx.run, ctx.node.id, 'filter/filter.json', Buffer.from(JSON.stringify(doc))),
  );
  return members;
}

/** The filter a phase wrote with {@link writeRunFilter}. */
export async function readRunFilter(ctx: PhaseContext, input: PhaseInput): Promise<RunFilter> {
  const doc = await readJsonMember<{ threshold: number; folds: number; fit: Record<string, unknown> }>(
    ctx,
    input,
    'filter/filter.json',
  );
  const boosters: Booster[] = [];
  for (let k = 1; k <= doc.folds; k++) {
    const text = await readMember(ctx, input, `filter/fold-${k}.txt`);
    if (text === undefined) throw new Error(`phase ${input.manifest.phase} wrote no filter/fold-${k}.txt`);
    boosters.push(parseModel(text.toString('utf8')));
  }
  return { boosters, threshold: doc.threshold, fit: doc.fit };
}
