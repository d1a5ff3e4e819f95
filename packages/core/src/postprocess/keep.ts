/**
 * Training labels, the keep rule and submission rows of the false-positive filter (§6.2).
 */
import { InvalidArgumentError } from '../errors.js';
import type { CharLabel, CharPoint, PagePredictions } from '../kaggle-csv.js';
import { f1FromCounts, matchPage, type F1Score } from '../metric.js';
import { pyRound } from './features.js';
import type { ClassifiedBox, ClassifiedPage } from './types.js';

/** The default keep threshold on the mean P(correct). */
export const DEFAULT_KEEP_THRESHOLD = 0.5;

/** A box's submission point: its code and Python-rounded centre. */
export function boxPoint(box: ClassifiedBox): CharPoint {
  return { code: box.code, x: pyRound(box.x + box.width / 2), y: pyRound(box.y + box.height / 2) };
}

/**
 * Training labels of a page's boxes from the Kaggle matching against its truth: 1 when a truth
 * character used the box's rounded centre (a correct prediction), 0 for a false positive.
 */
export function falsePositiveLabels(page: ClassifiedPage, truth: readonly CharLabel[]): Uint8Array {
  const match = matchPage(truth, page.boxes.map(boxPoint));
  return Uint8Array.from(match.predictionUsed, (used) => (used ? 1 : 0));
}

/** Keeps the boxes whose P(correct) is at least `threshold` (the upstream rule, ≥ 0.5). */
export function keepBoxes(
  boxes: readonly ClassifiedBox[],
  pCorrect: ArrayLike<number>,
  threshold: number = DEFAULT_KEEP_THRESHOLD,
): ClassifiedBox[] {
  if (pCorrect.length !== boxes.length) {
    throw new InvalidArgumentError('pCorrect', `${pCorrect.length} probabilities for ${boxes.length} boxes`);
  }
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new InvalidArgumentError('threshold', `expected a value in [0, 1], got ${threshold}`);
  }
  return boxes.filter((_, i) => (pCorrect[i] as number) >= threshold);
}

/** Submission rows (page id, code and rounded centre per kept box) in page order. */
export function submissionRows(pages: readonly ClassifiedPage[]): PagePredictions[] {
  return pages.map((page) => ({ pageId: page.pageId, points: page.boxes.map(boxPoint) }));
}

/** Kaggle F1 of pages of boxes filtered by per-box scores at a threshold. */
export function f1AtThreshold(
  pages: readonly ClassifiedPage[],
  scores: ReadonlyArray<ArrayLike<number>>,
  truths: ReadonlyArray<readonly CharLabel[]>,
  threshold: number,
): F1Score {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  pages.forEach((page, p) => {
    const kept = keepBoxes(page.boxes, scores[p] as ArrayLike<number>, threshold);
    const m = matchPage(truths[p] as readonly CharLabel[], kept.map(boxPoint));
    tp += m.tp;
    fp += m.fp;
    fn += m.fn;
  });
  return f1FromCounts(tp, fp, fn);
}

/**
 * The threshold in [0, 1] (steps of 0.01) that maximises the F1 of the kept boxes on validation
 * pages; ties go to the threshold closest to 0.5.
 */
export function tuneThreshold(
  pages: readonly ClassifiedPage[],
  scores: ReadonlyArray<ArrayLike<number>>,
  truths: ReadonlyArray<readonly CharLabel[]>,
): { threshold: number; f1: number } {
  if (scores.length !== pages.length || truths.length !== pages.length) {
    throw new InvalidArgumentError('pages', 'pages, scores and truths differ in length');
  }
  let best = { threshold: DEFAULT_KEEP_THRESHOLD, f1: -1 };
  for (let step = 0; step <= 100; step++) {
    const threshold = step / 100;
    const { f1 } = f1AtThreshold(pages, scores, truths, threshold);
    const closer = Math.abs(threshold - 0.5) < Math.abs(best.threshold - 0.5);
    if (f1 > best.f1 || (f1 === best.f1 && closer)) best = { threshold, f1 };
  }
  return best;
}
