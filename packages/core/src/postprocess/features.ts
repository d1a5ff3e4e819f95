/**
 * The 117 false-positive features of spec §6.2, per box of a page, in a fixed order
 * ({@link FP_FEATURE_NAMES}). Upstream's bugs are fixed (DESIGN: a retrained filter need not
 * reproduce them):
 * - the 5 neighbours are the 5 nearest *other* boxes by centre distance, ties by index;
 * - a neighbour's height "page" ratio divides by the page height;
 * - `area_page_rate` = area / (page_w · page_h), for the box and its neighbours;
 * - every ratio whose denominator is 0 (a std of 0, or of a single box) is 0, in training and
 *   prediction alike; a missing neighbour (fewer than 6 boxes) gives NaN for its 15 features.
 *
 * Widths and heights are Python-rounded `x2 - x1` and `y2 - y1`, centres the Python-rounded
 * midpoints (round half to even), as upstream. Page statistics (mean, sample std with ddof 1,
 * median) are over all boxes of the page.
 */
import type { ClassifiedBox, ClassifiedPage } from './types.js';
import { checkPage } from './validate.js';

/** Python 3 `round`: to the nearest integer, halves to even. */
export function pyRound(value: number): number {
  if (Math.abs(value % 1) === 0.5) return 2 * Math.round(value / 2);
  return Math.round(value);
}

/** The number of neighbours described per box. */
export const NEIGHBOURS = 5;

const RATIOS = ['page', 'mean', 'std', 'median'] as const;

function buildNames(): string[] {
  const names = ['char_score', 'is_hiragana', 'bbox_score', 'overlap_rate', 'page_width', 'page_height'];
  for (const q of ['width', 'height', 'area']) for (const r of RATIOS) names.push(`${q}_${r}_rate`);
  for (let k = 1; k <= NEIGHBOURS; k++) {
    for (const q of ['width', 'height', 'area']) for (const r of RATIOS) names.push(`nb${k}_${q}_${r}_rate`);
  }
  for (let k = 1; k <= NEIGHBOURS; k++) names.push(`nb${k}_dist_page_w_rate`, `nb${k}_dist_page_h_rate`);
  for (let k = 1; k <= NEIGHBOURS; k++) names.push(`nb${k}_angle`);
  names.push(
    'x_mean_xrate',
    'y_mean_yrate',
    'x_std_xrate',
    'y_std_yrate',
    'x_median_xrate',
    'y_median_yrate',
    'x_page_rate',
    'y_page_rate',
  );
  for (const q of ['area', 'width', 'height', 'x', 'y']) names.push(`${q}_mean`, `${q}_std`, `${q}_median`);
  names.push('box_num');
  return names;
}

/** The 117 feature names, in column order (also the filter model's `feature_names`). */
export const FP_FEATURE_NAMES: readonly string[] = Object.freeze(buildNames());

/** Number of features per box (117). */
export const FP_FEATURE_COUNT = FP_FEATURE_NAMES.length;

interface Stats {
  mean: number;
  std: number;
  median: number;
}

function stats(values: Float64Array): Stats {
  const n = values.length;
  if (n === 0) return { mean: 0, std: 0, median: 0 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const sorted = Float64Array.from(values).sort();
  const mid = n >> 1;
  const median = n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { mean, std, median };
}

/** a / b, or 0 when b is 0 (the zero guard). */
const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

function isHiragana(code: string): boolean {
  const cp = Number.parseInt(code.slice(2), 16);
  return cp >= 0x3040 && cp <= 0x309f;
}

/**
 * The features of every box of a page: a row-major `boxes.length × 117` array in
 * {@link FP_FEATURE_NAMES} order. Throws naming the field on a malformed box or page size.
 */
export function falsePositiveFeatures(page: ClassifiedPage, field = 'page'): Float64Array {
  checkPage(page, field);
  const boxes: readonly ClassifiedBox[] = page.boxes;
  const n = boxes.length;
  const F = FP_FEATURE_COUNT;
  const out = new Float64Array(n * F);
  if (n === 0) return out;
  const pw = page.width;
  const ph = page.height;
  const w = new Float64Array(n);
  const h = new Float64Array(n);
  const area = new Float64Array(n);
  const cx = new Float64Array(n);
  const cy = new Float64Array(n);
  boxes.forEach((b, i) => {
    w[i] = pyRound(b.width);
    h[i] = pyRound(b.height);
    area[i] = (w[i] as number) * (h[i] as number);
    cx[i] = pyRound(b.x + b.width / 2);
    cy[i] = pyRound(b.y + b.height / 2);
  });
  const sw = stats(w);
  const sh = stats(h);
  const sa = stats(area);
  const sx = stats(cx);
  const sy = stats(cy);
  const sizeRatios = (i: number): number[] => {
    const wi = w[i] as number;
    const hi = h[i] as number;
    const ai = area[i] as number;
    return [
      ratio(wi, pw),
      ratio(wi, sw.mean),
      ratio(wi, sw.std),
      ratio(wi, sw.median),
      ratio(hi, ph),
      ratio(hi, sh.mean),
      ratio(hi, sh.std),
      ratio(hi, sh.median),
      ratio(ai, pw * ph),
      ratio(ai, sa.mean),
      ratio(ai, sa.std),
      ratio(ai, sa.median),
    ];
  };
  const pageStats = [sa, sw, sh, sx, sy].flatMap((s) => [s.mean, s.std, s.median]);

  for (let i = 0; i < n; i++) {
    const b = boxes[i] as ClassifiedBox;
    const row: number[] = [];
    // Overlap: intersections (touching counts with area 0) over the own rounded area.
    let overlap = 0;
    const x1 = b.x;
    const x2 = b.x + b.width;
    const y1 = b.y;
    const y2 = b.y + b.height;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const o = boxes[j] as ClassifiedBox;
      const iw = Math.min(x2, o.x + o.width) - Math.max(x1, o.x);
      const ih = Math.min(y2, o.y + o.height) - Math.max(y1, o.y);
      if (iw >= 0 && ih >= 0) overlap += ratio(iw * ih, area[i] as number);
    }
    row.push(b.probability, isHiragana(b.code) ? 1 : 0, b.score, overlap, pw, ph);
    row.push(...sizeRatios(i));

    // The 5 nearest other boxes by centre distance, ties by index.
    const others: Array<{ j: number; d: number }> = [];
    for (let j = 0; j < n; j++) {
      if (j !== i)
        others.push({ j, d: Math.hypot((cx[j] as number) - (cx[i] as number), (cy[j] as number) - (cy[i] as number)) });
    }
    others.sort((a, c) => a.d - c.d || a.j - c.j);
    const nearest = others.slice(0, NEIGHBOURS);
    for (let k = 0; k < NEIGHBOURS; k++) {
      const nb = nearest[k];
      row.push(...(nb ? sizeRatios(nb.j) : new Array<number>(12).fill(NaN)));
    }
    for (let k = 0; k < NEIGHBOURS; k++) {
      const nb = nearest[k];
      row.push(nb ? nb.d / pw : NaN, nb ? nb.d / ph : NaN);
    }
    for (let k = 0; k < NEIGHBOURS; k++) {
      const nb = nearest[k];
      row.push(
        nb ? Math.atan2((cy[nb.j] as number) - (cy[i] as number), (cx[nb.j] as number) - (cx[i] as number)) : NaN,
      );
    }
    const xi = cx[i] as number;
    const yi = cy[i] as number;
    row.push(
      ratio(xi, sx.mean),
      ratio(yi, sy.mean),
      ratio(xi, sx.std),
      ratio(yi, sy.std),
      ratio(xi, sx.median),
      ratio(yi, sy.median),
      ratio(xi, pw),
      ratio(yi, ph),
    );
    row.push(...pageStats, n);
    out.set(row, i * F);
  }
  return out;
}
