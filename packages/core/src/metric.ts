/**
 * The Kaggle Kuzushiji Recognition metric (spec §6.3), micro F1 over pages. Per page, for each
 * ground-truth character in file order: the predictions with the same code whose centre lies
 * strictly inside the box (x < px < x + width, likewise y) and that are still unused; if any,
 * a true positive that uses the *first* of them, else a false negative. Unused predictions are
 * false positives. Counts are summed over pages, then F1 = 2PR / (P + R).
 */
import { InvalidArgumentError } from './errors.js';
import type { CharLabel, CharPoint, PageLabels, PagePredictions } from './kaggle-csv.js';

/** Counts and scores of a scoring run. */
export interface F1Score {
  /** 2PR / (P + R); 0 when P or R is 0 or undefined. */
  f1: number;
  /** TP / (TP + FP); 0 when there is no prediction. */
  precision: number;
  /** TP / (TP + FN); 0 when there is no truth. */
  recall: number;
  tp: number;
  fp: number;
  fn: number;
}

/** The matching of one page. */
export interface PageMatch {
  tp: number;
  fp: number;
  fn: number;
  /** Per prediction, in input order: true if a truth used it (the false-positive label of §6.2). */
  predictionUsed: boolean[];
  /** Per truth, in input order: the index of the prediction it matched, or -1. */
  truthMatch: number[];
}

/** Matches one page's predictions against its truth (rules in the module comment). */
export function matchPage(truth: readonly CharLabel[], predictions: readonly CharPoint[]): PageMatch {
  const byCode = new Map<string, number[]>();
  predictions.forEach((p, i) => {
    const list = byCode.get(p.code);
    if (list === undefined) byCode.set(p.code, [i]);
    else list.push(i);
  });
  const predictionUsed = predictions.map(() => false);
  const truthMatch = truth.map((t) => {
    for (const i of byCode.get(t.code) ?? []) {
      if (predictionUsed[i]) continue;
      const p = predictions[i]!;
      if (t.x < p.x && p.x < t.x + t.width && t.y < p.y && p.y < t.y + t.height) {
        predictionUsed[i] = true;
        return i;
      }
    }
    return -1;
  });
  const tp = truthMatch.filter((m) => m >= 0).length;
  return { tp, fp: predictions.length - tp, fn: truth.length - tp, predictionUsed, truthMatch };
}

/** F1, precision and recall from summed counts. */
export function f1FromCounts(tp: number, fp: number, fn: number): F1Score {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision > 0 && recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { f1, precision, recall, tp, fp, fn };
}

/**
 * Scores a submission against the truth: every truth page counts (a page with no prediction
 * row counts all its characters as false negatives); predictions for pages absent from the
 * truth are ignored. Page ids must be unique on each side.
 */
export function scoreSubmission(truth: readonly PageLabels[], predictions: readonly PagePredictions[]): F1Score {
  const predicted = new Map<string, readonly CharPoint[]>();
  predictions.forEach((page, i) => {
    if (predicted.has(page.pageId)) {
      throw new InvalidArgumentError(`predictions[${i}].pageId`, `page "${page.pageId}" appears twice`);
    }
    predicted.set(page.pageId, page.points);
  });
  const seen = new Set<string>();
  let tp = 0;
  let fp = 0;
  let fn = 0;
  truth.forEach((page, i) => {
    if (seen.has(page.pageId))
      throw new InvalidArgumentError(`truth[${i}].pageId`, `page "${page.pageId}" appears twice`);
    seen.add(page.pageId);
    const m = matchPage(page.labels, predicted.get(page.pageId) ?? []);
    tp += m.tp;
    fp += m.fp;
    fn += m.fn;
  });
  return f1FromCounts(tp, fp, fn);
}
