/**
 * bench/gbdt: kzr's GBDT trainer against XGBoost (Debian python3-xgboost, tree_method=hist,
 * grow_policy=lossguide) on the same table in one run. Each training runs in a process of its own
 * (kzr-train.ts, xgb.py) on the table this script writes. Prints training time and validation
 * AUC / logloss of both, and the ratios.
 *
 *   npx tsx bench/gbdt/run.ts [--rows 100000] [--features 20] [--rounds 100] [--leaves 31] [--python /usr/bin/python3]
 *   npx tsx bench/gbdt/run.ts --fp-books 4 [--fp-pages 40]   # the false-positive table of synthetic books
 *   ... --seeds 5   # compare the mean validation AUC over training seeds 1-5 (the default on the false-positive table)
 *
 * Needs `apt-get install -y python3-xgboost`. Acceptance: AUC within 0.005 of XGBoost, time ≤ 2× (issue 7);
 * on all cores AUC within 0.002 and time ≤ 1× (issue 24).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { bookIdOf, createRng, iou, type CharLabel } from '@kzr/core';
import {
  FP_FEATURE_COUNT,
  falsePositiveFeatures,
  falsePositiveLabels,
  mergeDetectionSets,
  type ClassifiedBox,
  type ClassifiedPage,
} from '@kzr/core/postprocess';
import { generateSyntheticDataset } from '@kzr/data';
import { type FeatureMatrix } from '@kzr/gbdt';
import { syntheticTable } from '@kzr/gbdt/internal';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    valid: { type: 'string', default: '50000' },
    features: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '100' },
    leaves: { type: 'string', default: '31' },
    python: { type: 'string', default: '/usr/bin/python3' },
    seed: { type: 'string', default: '7' },
    'fp-books': { type: 'string' },
    'fp-pages': { type: 'string', default: '40' },
    seeds: { type: 'string' },
  },
});
const numRows = Number(flags.rows);
const numValid = Number(flags.valid);
const numFeatures = Number(flags.features);
const rounds = Number(flags.rounds);
const leaves = Number(flags.leaves);

/** The shared seeded table with bench's wider signal (tanh and abs terms on columns 5-7), 5 % missing. */
function generate(n: number, seed: number): { features: FeatureMatrix; labels: Float64Array } {
  return syntheticTable(n, numFeatures, seed, { extraSignal: true });
}

/**
 * The false-positive table of §6.2 from synthetic books: two simulated detectors, a simulated
 * classifier (right code for well-placed boxes most of the time, overlapping probabilities),
 * NMS across the sets, the 117 features and the Kaggle-matching labels. The last book validates.
 */
async function falsePositiveTables(
  books: number,
  pagesPerBook: number,
): Promise<{
  train: { features: FeatureMatrix; labels: Float64Array };
  valid: { features: FeatureMatrix; labels: Float64Array };
}> {
  const out = mkdtempSync(join(tmpdir(), 'kzr-bench-fp-'));
  try {
    const dataset = await generateSyntheticDataset({
      outDir: join(out, 'synth'),
      books,
      pagesPerBook,
      classes: 30,
      seed: Number(flags.seed),
      jpegQuality: 50,
    });
    const codes = dataset.classes.map((c) => c.code);
    const lastBook = dataset.books.at(-1)!.bookId;
    const rows: { train: Float64Array[]; valid: Float64Array[]; trainLabels: number[]; validLabels: number[] } = {
      train: [],
      valid: [],
      trainLabels: [],
      validLabels: [],
    };
    for (const page of dataset.pages) {
      const rng = createRng(`bench/${page.pageId}`);
      const sets = dataset.detectionSets.map((set) => {
        const dets = set.pages.find((p) => p.pageId === page.pageId)!;
        return dets.detections.map((d): ClassifiedBox => {
          let best = 0;
          let match: CharLabel | undefined;
          for (const t of page.labels) {
            const overlap = iou(t, d);
            if (overlap > best) [best, match] = [overlap, t];
          }
          const right = match !== undefined && best >= 0.5 && rng.next() < 0.92;
          return {
            code: right ? match!.code : codes[rng.int(codes.length)]!,
            probability: right ? 0.35 + 0.65 * rng.next() : 0.2 + 0.8 * rng.next(),
            score: d.score,
            x: d.x,
            y: d.y,
            width: d.width,
            height: d.height,
          };
        });
      });
      const size = dataset.detectionSets[0]!.pages.find((p) => p.pageId === page.pageId)!;
      const merged: ClassifiedPage = {
        pageId: page.pageId,
        width: size.width,
        height: size.height,
        boxes: mergeDetectionSets(sets),
      };
      const isValid = bookIdOf(page.pageId) === lastBook;
      (isValid ? rows.valid : rows.train).push(falsePositiveFeatures(merged));
      (isValid ? rows.validLabels : rows.trainLabels).push(...falsePositiveLabels(merged, page.labels));
    }
    const table = (blocks: Float64Array[], labels: number[]): { features: FeatureMatrix; labels: Float64Array } => {
      const values = new Float64Array(labels.length * FP_FEATURE_COUNT);
      let offset = 0;
      for (const b of blocks) {
        values.set(b, offset);
        offset += b.length;
      }
      return {
        features: { numRows: labels.length, numFeatures: FP_FEATURE_COUNT, values },
        labels: Float64Array.from(labels),
      };
    };
    return { train: table(rows.train, rows.trainLabels), valid: table(rows.valid, rows.validLabels) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const shared = { learning_rate: 0.1, bagging_fraction: 0.8, feature_fraction: 0.8 };
const fpBooks = flags['fp-books'] === undefined ? 0 : Number(flags['fp-books']);
const tables = fpBooks > 0 ? await falsePositiveTables(fpBooks, Number(flags['fp-pages'])) : undefined;
const trainSet = tables?.train ?? generate(numRows, Number(flags.seed));
const validSet = tables?.valid ?? generate(numValid, Number(flags.seed) + 1);
const tableFeatures = trainSet.features.numFeatures;

const dir = mkdtempSync(join(tmpdir(), 'kzr-bench-gbdt-'));
try {
  writeFileSync(join(dir, 'train.f64'), trainSet.features.values);
  writeFileSync(join(dir, 'train.y'), trainSet.labels);
  writeFileSync(join(dir, 'valid.f64'), validSet.features.values);
  writeFileSync(join(dir, 'valid.y'), validSet.labels);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ numFeatures: tableFeatures }));

  type Result = { seconds: number; cpuSeconds: number; auc: number; logloss: number; version?: string };
  // Each kzr run is a process of its own (kzr-train.ts), as each XGBoost run is (xgb.py).
  const runKzr = (numThreads: number, seed = 1): Result => {
    const params = {
      ...shared,
      num_iterations: rounds,
      num_leaves: leaves,
      bagging_freq: 1,
      max_bin: 255,
      min_sum_hessian_in_leaf: 1,
      min_data_in_leaf: 20,
      seed,
      num_threads: numThreads,
    };
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', new URL('kzr-train.ts', import.meta.url).pathname, dir, JSON.stringify(params)],
      { encoding: 'utf8' },
    );
    return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
  };
  const kzr1 = runKzr(1);
  const kzrAll = runKzr(0);

  const xgbParams = {
    objective: 'binary:logistic',
    tree_method: 'hist',
    grow_policy: 'lossguide',
    max_leaves: leaves,
    max_depth: 0,
    max_bin: 255,
    eta: shared.learning_rate,
    subsample: shared.bagging_fraction,
    colsample_bytree: shared.feature_fraction,
    min_child_weight: 1,
    lambda: 0,
    seed: 1,
    num_boost_round: rounds,
  };
  const runXgb = (nthread: number, seed = 1): Result => {
    const out = execFileSync(
      flags.python!,
      [new URL('xgb.py', import.meta.url).pathname, dir, JSON.stringify({ ...xgbParams, nthread, seed })],
      { encoding: 'utf8' },
    );
    return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
  };
  // XGBoost with one thread (kzr trains on one) and with every core (its default).
  const xgb1 = runXgb(1);
  const xgbAll = runXgb(0);

  const line = (name: string, r: Result): string =>
    `${name.padEnd(22)} wall ${r.seconds.toFixed(2).padStart(7)} s  cpu ${r.cpuSeconds.toFixed(2).padStart(7)} s   AUC ${r.auc.toFixed(5)}   logloss ${r.logloss.toFixed(5)}`;
  console.log(
    `table: ${tables ? `false-positive table of ${fpBooks} synthetic books (last one validates)` : 'generated'}, ` +
      `${trainSet.features.numRows} train rows, ${validSet.features.numRows} valid rows, ${tableFeatures} features, ` +
      `${rounds} rounds, ${leaves} leaves; ${availableParallelism()} cores`,
  );
  console.log(line('kzr num_threads=1', kzr1));
  console.log(line('kzr all cores', kzrAll));
  console.log(line(`xgboost ${xgb1.version} nthread=1`, xgb1));
  console.log(line(`xgboost ${xgbAll.version} all cores`, xgbAll));
  // Validation AUC moves with the training seed (which rows and columns are sampled); on a small
  // validation set one seed is a noisy comparison, so the acceptance compares the mean AUC over
  // seeds 1..N. Both libraries give the same trees on any thread count, so the extra seeds train
  // on all cores only.
  const seeds = Number(flags.seeds ?? (tables ? 5 : 1));
  const kzrAucs = [kzr1.auc];
  const xgbAucs = [xgb1.auc];
  for (let seed = 2; seed <= seeds; seed++) {
    kzrAucs.push(runKzr(0, seed).auc);
    xgbAucs.push(runXgb(0, seed).auc);
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const aucDiff = mean(kzrAucs) - mean(xgbAucs);
  if (seeds > 1) {
    const range = (xs: number[]): string => `${Math.min(...xs).toFixed(5)}-${Math.max(...xs).toFixed(5)}`;
    console.log(
      `mean AUC over training seeds 1-${seeds}: kzr ${mean(kzrAucs).toFixed(5)} (${range(kzrAucs)}), ` +
        `xgboost ${mean(xgbAucs).toFixed(5)} (${range(xgbAucs)}), diff ${aucDiff.toFixed(5)}`,
    );
  }
  const aucName = seeds > 1 ? `mean AUC diff (seeds 1-${seeds})` : 'AUC diff';
  for (const [name, kzr, xgb] of [
    ['one thread each', kzr1, xgb1],
    ['all cores each', kzrAll, xgbAll],
  ] as const) {
    const ok = aucDiff >= -0.005 && kzr.seconds <= 2 * xgb.seconds;
    // Issue 24's floor (all cores): as fast as XGBoost at an AUC within 0.002.
    const floor = Math.abs(aucDiff) <= 0.002 && kzr.seconds <= xgb.seconds;
    const issue24 = kzr === kzrAll ? `; issue 24 (AUC within 0.002, wall <= 1x): ${floor ? 'met' : 'NOT met'}` : '';
    console.log(
      `kzr/xgboost, ${name}: wall ${(kzr.seconds / xgb.seconds).toFixed(2)}x  cpu ${(kzr.cpuSeconds / xgb.cpuSeconds).toFixed(2)}x  ` +
        `${aucName} ${aucDiff.toFixed(5)}  logloss ratio ${(kzr.logloss / xgb.logloss).toFixed(4)}  ` +
        `acceptance (AUC within 0.005, wall <= 2x): ${ok ? 'met' : 'NOT met'}${issue24}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
