/**
 * The stage report of a run, `results/<run>/stages.json` (schema version
 * {@link stagesSchemaVersion}): one row per stage of issue 16 with its score on the test pages
 * (core's `F1Score`) and its submission CSV (`results/<run>/<file>`), plus the pseudo-label
 * count and precision. Written by the run's final-infer phase; `kzr run watch` and the report
 * read it.
 */
import type { F1Score } from '@kzr/core';
import { type PutResult, type Store, ValidationError } from '@kzr/platform';

import { checkSegment, runStagesKey } from './keys.js';
import { checkSchemaVersion, getJson, putJson } from './schema.js';

/** Schema version of the `stages.json` this code reads and writes. */
export const stagesSchemaVersion = 1 as const;

/** The stages of a run, in order. */
export const RunStage = {
  /** The first models, soft voting, NMS across the detection sets. */
  First: 'first',
  /** The same, after the first-model false-positive filter. */
  FirstFiltered: 'first+filter',
  /** The second-training models (train + pseudo crops). */
  SecondTrain: 'second-train',
  /** The refined models. */
  Refine: 'refine',
  /** The refined models, hard voting, NMS, the final filter: what is published. */
  Final: 'final',
} as const;
export type RunStage = (typeof RunStage)[keyof typeof RunStage];

/** One stage's score. */
export interface StageRow extends F1Score {
  readonly stage: RunStage;
  /** Its submission CSV, a file of `results/<run>/`. */
  readonly submission: string;
}

/** `results/<run>/stages.json`. */
export interface StagesReport {
  readonly schemaVersion: typeof stagesSchemaVersion;
  readonly run: string;
  /** In {@link RunStage} order, each stage at most once. */
  readonly stages: readonly StageRow[];
  /** Pseudo-labels made, and the share of them that match the truth of the test pages. */
  readonly pseudoLabels: { readonly count: number; readonly precision: number };
}

function fraction(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValidationError(field, `expected a number in [0, 1], got ${JSON.stringify(value)}`);
  }
  return value;
}

function count(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValidationError(field, `expected an integer >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'expected an object');
  }
  return value as Record<string, unknown>;
}

/** Parses and checks a stage report; throws a ValidationError naming the bad field. */
export function parseStagesReport(value: unknown): StagesReport {
  const o = object('stages', value);
  checkSchemaVersion('stages.schemaVersion', o.schemaVersion, stagesSchemaVersion);
  if (!Array.isArray(o.stages)) throw new ValidationError('stages.stages', 'expected a list');
  const order = Object.values(RunStage) as unknown[];
  let last = -1;
  const stages = o.stages.map((row: unknown, i: number): StageRow => {
    const f = `stages.stages[${i}]`;
    const r = object(f, row);
    const at = order.indexOf(r.stage);
    if (at < 0) throw new ValidationError(`${f}.stage`, `expected one of ${order.join(', ')}`);
    if (at <= last) throw new ValidationError(`${f}.stage`, `${String(r.stage)} out of order or repeated`);
    last = at;
    return {
      stage: r.stage as RunStage,
      f1: fraction(`${f}.f1`, r.f1),
      precision: fraction(`${f}.precision`, r.precision),
      recall: fraction(`${f}.recall`, r.recall),
      tp: count(`${f}.tp`, r.tp),
      fp: count(`${f}.fp`, r.fp),
      fn: count(`${f}.fn`, r.fn),
      submission: checkSegment(`${f}.submission`, r.submission),
    };
  });
  const p = object('stages.pseudoLabels', o.pseudoLabels);
  return {
    schemaVersion: stagesSchemaVersion,
    run: checkSegment('stages.run', o.run),
    stages,
    pseudoLabels: {
      count: count('stages.pseudoLabels.count', p.count),
      precision: fraction('stages.pseudoLabels.precision', p.precision),
    },
  };
}

/** Writes `results/<run>/stages.json` (checked first). */
export async function writeStagesReport(store: Store, report: Omit<StagesReport, 'schemaVersion'>): Promise<PutResult> {
  const checked = parseStagesReport({ ...report, schemaVersion: stagesSchemaVersion });
  return putJson(store, runStagesKey(checked.run), checked);
}

/** Reads and checks `results/<run>/stages.json`; platform's NotFoundError when missing. */
export async function readStagesReport(store: Store, run: string): Promise<StagesReport> {
  const report = parseStagesReport(await getJson(store, runStagesKey(run), 'stages'));
  if (report.run !== run) throw new ValidationError('stages.run', `names run ${report.run}, stored as ${run}`);
  return report;
}
