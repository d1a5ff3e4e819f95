/**
 * The split phase (DESIGN.md "Runs" 2, spec §1.3 and §2.4): per split of the run spec, the
 * book-held-out split of the ground-truth crops (the test books' crops never enter it), with
 * core's per-class rules and oversampling, and the class map. Each `split-<name>.json` lists
 * crop records by their index in the preprocess phase's shard index.
 */
import { buildClassMap, type CropEntry, splitByBook } from '@kzr/core';
import { PhaseName } from '@kzr/pipeline';

import { inputOf, type PhaseBody, type PhaseContext, readJsonMember, writeJsonMember } from './context.js';
import type { CropsRef } from './preprocess.js';
import { readStoredShards, type StoredShards } from './crops.js';

/** What `split-<name>.json` holds. */
export interface SplitRows {
  /** The shard index the rows point into (the preprocess phase's crops). */
  readonly crops: CropsRef;
  readonly valBook: string;
  /** Class codes in class-index order. */
  readonly classes: readonly string[];
  /** Oversampled training rows. */
  readonly train: readonly number[];
  /** Oversampled validation rows. */
  readonly val: readonly number[];
  /** The raw held-out rows (each once). */
  readonly heldOut: readonly number[];
}

/** The preprocess phase's crops reference. */
function preprocessedCrops(ctx: PhaseContext): Promise<CropsRef> {
  return readJsonMember<CropsRef>(ctx, inputOf(ctx, PhaseName.Preprocess), 'crops.json');
}

/** The shards a split's rows point into. */
export function splitShards(ctx: PhaseContext, split: SplitRows): Promise<StoredShards> {
  return readStoredShards(ctx.store, split.crops.index, split.crops.sha256);
}

/** The split `name` as the split phase wrote it. */
export function readSplit(ctx: PhaseContext, name: string): Promise<SplitRows> {
  return readJsonMember<SplitRows>(ctx, inputOf(ctx, PhaseName.Split), `split-${name}.json`);
}

export const splitPhase: PhaseBody = async (ctx) => {
  const cropsRef = await preprocessedCrops(ctx);
  const stored = await readStoredShards(ctx.store, cropsRef.index, cropsRef.sha256);
  const testBooks = new Set(ctx.spec.split.testBooks);
  // A crop entry's path is its record index, so the split's rows point back into the index.
  const crops: CropEntry[] = [];
  const books: string[] = [];
  stored.index.records.forEach((r, i) => {
    if (testBooks.has(r.book)) return;
    crops.push({ code: r.label, path: String(i) });
    books.push(r.book);
  });
  const members = [];
  const summary: Record<string, unknown> = {};
  for (const split of ctx.spec.split.splits) {
    const result = splitByBook(crops, {
      valBook: split.valBook,
      seed: ctx.spec.split.seed,
      bookOf: (_, i) => books[i],
    });
    const classes = [...buildClassMap(result.train.map((c) => c.code)).codes];
    const rows = (list: readonly CropEntry[]): number[] => list.map((c) => Number(c.path));
    const doc: SplitRows = {
      crops: cropsRef,
      valBook: split.valBook,
      classes,
      train: rows(result.train),
      val: rows(result.val),
      heldOut: rows(result.heldOut),
    };
    members.push(await writeJsonMember(ctx, `split-${split.name}.json`, doc));
    summary[split.name] = {
      train: doc.train.length,
      val: doc.val.length,
      heldOut: doc.heldOut.length,
      classes: classes.length,
    };
  }
  return { members, summary };
};
