/**
 * `kzr postprocess features --pred <results.json> --truth <train.csv> --out <features.csv>`: the
 * table a false-positive filter learns from (spec §6.2): one row per recognised character of the
 * unfiltered recognition output (`kzr recognize --unfiltered`), its 117 features by name and
 * `label` (1 when the character matches the ground truth as Kaggle scores it, else 0). The CSV
 * reads straight into `kzr gbdt train|cv|search --csv`. Prints a JSON summary.
 */
import { parseTrainCsv, type CharLabel } from '@kzr/core';
import { FP_FEATURE_COUNT, FP_FEATURE_NAMES } from '@kzr/core/postprocess';
import { formatNumber, trainingTable } from '@kzr/gbdt';

import { parseCommand, printJson, requireFlag } from '../args.js';
import { checkOutputPath, writeOutput } from './output.js';
import { usage } from './postprocess-features.usage.js';
import { readPredictionPages } from './read-predictions.js';
import { readTextInput } from './read-text.js';

/** The recognised pages of `--pred` and the ground truth of `--truth`, by page. */
export async function readPagesWithTruth(
  predPath: string,
  truthPath: string,
): Promise<{
  pages: Awaited<ReturnType<typeof readPredictionPages>>;
  truthByPage: Map<string, readonly CharLabel[]>;
}> {
  const pages = await readPredictionPages(predPath, '--pred');
  const truth = parseTrainCsv(await readTextInput(truthPath, '--truth'), truthPath);
  return { pages, truthByPage: new Map(truth.map((page) => [page.pageId, page.labels])) };
}

/** Runs `kzr postprocess features`. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const predPath = requireFlag(values, 'pred');
  const truthPath = requireFlag(values, 'truth');
  const out = requireFlag(values, 'out');
  await checkOutputPath(out, '--out');
  const { pages, truthByPage } = await readPagesWithTruth(predPath, truthPath);
  const table = trainingTable(pages, truthByPage);
  const lines = [[...FP_FEATURE_NAMES, 'label'].join(',')];
  const { numRows, values: v } = table.features;
  for (let r = 0; r < numRows; r++) {
    const row = Array.from(v.subarray(r * FP_FEATURE_COUNT, (r + 1) * FP_FEATURE_COUNT), formatNumber);
    lines.push([...row, String(table.labels[r])].join(','));
  }
  await writeOutput(out, `${lines.join('\n')}\n`, '--out');
  const correct = Array.from(table.labels).reduce((s, y) => s + y, 0);
  printJson({ out, pages: pages.length, rows: numRows, correct, falsePositives: numRows - correct });
  return 0;
}
