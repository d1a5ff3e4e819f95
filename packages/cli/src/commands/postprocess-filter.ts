/**
 * `kzr postprocess filter --pred <results.json> --filter <model.txt> [--filter <fold2.txt> ...]
 * [--threshold 0.5] --out <submission.csv>`: computes the 117 false-positive features of every
 * predicted character, averages P(correct) over the given models, keeps a character iff it is at
 * least the threshold, and writes the submission CSV. `results.json` holds classified pages: a
 * JSON array of `kzr.v1.PagePredictions` (proto3 JSON) or `{"pages": [...]}`. Prints a JSON summary.
 */
import { formatSubmissionCsv } from '@kzr/core';
import {
  DEFAULT_KEEP_THRESHOLD,
  FP_FEATURE_COUNT,
  falsePositiveFeatures,
  keepBoxes,
  submissionRows,
} from '@kzr/core/postprocess';
import { predictMean, type Booster } from '@kzr/gbdt';
import { type WirePage } from '@kzr/postprocess';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { readModelFile } from './gbdt-options.js';
import { checkOutputPath, writeOutput } from './output.js';
import { readPredictionPages } from './read-predictions.js';
import { usage } from './postprocess-filter.usage.js';

/** Runs `kzr postprocess filter`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const predPath = requireFlag(values, 'pred');
  const out = requireFlag(values, 'out');
  const filterPaths = Array.isArray(values.filter) ? values.filter.map(String) : [];
  if (filterPaths.length === 0) throw new UsageError('--filter', 'is required');
  let threshold = DEFAULT_KEEP_THRESHOLD;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (typeof values.threshold !== 'string' || values.threshold.trim() === '' || !(threshold >= 0 && threshold <= 1)) {
      throw new UsageError('--threshold', `expected a number in [0, 1], got ${JSON.stringify(values.threshold)}`);
    }
  }
  await checkOutputPath(out, '--out');
  const boosters: Booster[] = [];
  for (const path of filterPaths) {
    const booster = await readModelFile(path, '--filter');
    if (booster.maxFeatureIdx + 1 !== FP_FEATURE_COUNT) {
      throw new UsageError(
        '--filter',
        `${path} reads ${booster.maxFeatureIdx + 1} features, the filter needs ${FP_FEATURE_COUNT}`,
      );
    }
    boosters.push(booster);
  }
  const pages = await readPredictionPages(predPath, '--pred');
  let before = 0;
  const kept = pages.map((page, i): WirePage => {
    before += page.boxes.length;
    if (page.boxes.length === 0) return page;
    const features = falsePositiveFeatures(page, `pages[${i}]`);
    const p = predictMean(boosters, { numRows: page.boxes.length, numFeatures: FP_FEATURE_COUNT, values: features });
    return { ...page, boxes: keepBoxes(page.boxes, p, threshold) as WirePage['boxes'] };
  });
  await writeOutput(out, formatSubmissionCsv(submissionRows(kept)), '--out');
  printJson({
    out,
    pages: pages.length,
    characters: before,
    kept: kept.reduce((s, p) => s + p.boxes.length, 0),
    threshold,
  });
  return 0;
}
