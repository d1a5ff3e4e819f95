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
 *
 * The overlaps and the neighbours come from uniform grids, not from comparing every pair: 50,000
 * boxes of a page take under a second, and every value equals the pair-by-pair computation
 * (sums in box order; test: `test/postprocess/features-scale.test.ts`).
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
 * Finding the boxes a box touches without comparing every pair: each box is entered in the
 * cells of a uniform grid (side: the median box side) that its closed rectangle covers, so two
 * boxes that touch share a cell. Boxes covering many cells are kept apart and compared with
 * every box. Near linear for a page of characters; only boxes that really pile up cost more.
 */
class BoxGrid {
  /** Box indices per cell key. */
  readonly #cells = new Map<number, number[]>();
  /** Boxes covering more than {@link bigBoxCells} cells, or every box when no grid fits. */
  readonly #big: number[] = [];
  /** 1 for the boxes in {@link BoxGrid.#big}. */
  readonly #isBig: Uint8Array;
  readonly #boxes: readonly ClassifiedBox[];
  #minX = 0;
  #minY = 0;
  #side = 1;
  /** Per box, the last box whose candidates it was collected for (dedupe without a set). */
  readonly #seen: Int32Array;

  constructor(boxes: readonly ClassifiedBox[]) {
    this.#boxes = boxes;
    this.#seen = new Int32Array(boxes.length).fill(-1);
    this.#isBig = new Uint8Array(boxes.length);
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    const sides = new Float64Array(boxes.length);
    boxes.forEach((b, i) => {
      minX = Math.min(minX, b.x);
      minY = Math.min(minY, b.y);
      maxX = Math.max(maxX, b.x + b.width);
      maxY = Math.max(maxY, b.y + b.height);
      sides[i] = Math.max(b.width, b.height);
    });
    const spanX = maxX - minX;
    const spanY = maxY - minY;
    if (!Number.isFinite(spanX) || !Number.isFinite(spanY)) {
      // Coordinates near the float limit: no grid, compare every pair (as before the grid).
      boxes.forEach((_, i) => this.#big.push(i));
      this.#isBig.fill(1);
      return;
    }
    sides.sort();
    const median = sides[sides.length >> 1] as number;
    // At most 2^20 cells per axis, so cell keys stay exact integers.
    this.#side = Math.max(median, spanX / 2 ** 20, spanY / 2 ** 20, Number.MIN_VALUE);
    this.#minX = minX;
    this.#minY = minY;
    boxes.forEach((b, i) => {
      const [cx0, cx1, cy0, cy1] = this.#range(b);
      if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > bigBoxCells) {
        this.#big.push(i);
        this.#isBig[i] = 1;
        return;
      }
      for (let gx = cx0; gx <= cx1; gx++) {
        for (let gy = cy0; gy <= cy1; gy++) {
          const key = gx * cellKeyStride + gy;
          const cell = this.#cells.get(key);
          if (cell === undefined) this.#cells.set(key, [i]);
          else cell.push(i);
        }
      }
    });
  }

  #range(b: ClassifiedBox): [number, number, number, number] {
    const s = this.#side;
    return [
      Math.floor((b.x - this.#minX) / s),
      Math.floor((b.x + b.width - this.#minX) / s),
      Math.floor((b.y - this.#minY) / s),
      Math.floor((b.y + b.height - this.#minY) / s),
    ];
  }

  /** The other boxes that may touch box `i` (every one that does), in no order. */
  candidates(i: number): number[] {
    const out: number[] = [];
    const seen = this.#seen;
    const take = (j: number): void => {
      if (j !== i && seen[j] !== i) {
        seen[j] = i;
        out.push(j);
      }
    };
    if (this.#isBig[i] === 1) {
      for (let j = 0; j < this.#boxes.length; j++) take(j);
      return out;
    }
    for (const j of this.#big) take(j);
    const [cx0, cx1, cy0, cy1] = this.#range(this.#boxes[i] as ClassifiedBox);
    for (let gx = cx0; gx <= cx1; gx++) {
      for (let gy = cy0; gy <= cy1; gy++) {
        for (const j of this.#cells.get(gx * cellKeyStride + gy) ?? []) take(j);
      }
    }
    return out;
  }
}

/** A box covering more grid cells than this is compared with every box. */
const bigBoxCells = 64;
/** Cell key = column · stride + row (rows < 2^20 + 1). */
const cellKeyStride = 2 ** 21;

/**
 * Overlap of box `i`: the intersections with every other box it touches (touching counts, with
 * area 0) over its own rounded area, summed in box order so the sum is the same number as the
 * plain double loop gives.
 */
function overlapRate(boxes: readonly ClassifiedBox[], area: Float64Array, i: number, grid: BoxGrid): number {
  const b = boxes[i] as ClassifiedBox;
  const x1 = b.x;
  const x2 = b.x + b.width;
  const y1 = b.y;
  const y2 = b.y + b.height;
  let overlap = 0;
  for (const j of grid.candidates(i).sort((p, q) => p - q)) {
    const o = boxes[j] as ClassifiedBox;
    const iw = Math.min(x2, o.x + o.width) - Math.max(x1, o.x);
    const ih = Math.min(y2, o.y + o.height) - Math.max(y1, o.y);
    if (iw >= 0 && ih >= 0) overlap += ratio(iw * ih, area[i] as number);
  }
  return overlap;
}

/**
 * Box centres in a uniform grid of about one centre per cell, searched in growing square rings
 * around a centre until no unseen centre can be nearer than the 5th found.
 */
class CentreGrid {
  readonly #cells = new Map<number, number[]>();
  readonly #min: [number, number] = [0, 0];
  #side = 1;
  /** Highest cell column and row. */
  #last: [number, number] = [0, 0];
  /** Set when no grid fits (coordinates near the float limit): every centre is a candidate. */
  readonly #all: boolean;

  constructor(cx: Float64Array, cy: Float64Array) {
    const n = cx.length;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, cx[i] as number);
      maxX = Math.max(maxX, cx[i] as number);
      minY = Math.min(minY, cy[i] as number);
      maxY = Math.max(maxY, cy[i] as number);
    }
    const spanX = maxX - minX;
    const spanY = maxY - minY;
    this.#all = !Number.isFinite(spanX) || !Number.isFinite(spanY);
    if (this.#all) return;
    this.#min[0] = minX;
    this.#min[1] = minY;
    this.#side = Math.max(Math.sqrt((spanX * spanY) / n), spanX / 2 ** 20, spanY / 2 ** 20, 1);
    for (let i = 0; i < n; i++) {
      const gx = this.#cell(cx[i] as number, 0);
      const gy = this.#cell(cy[i] as number, 1);
      this.#last = [Math.max(this.#last[0], gx), Math.max(this.#last[1], gy)];
      const key = gx * cellKeyStride + gy;
      const cell = this.#cells.get(key);
      if (cell === undefined) this.#cells.set(key, [i]);
      else cell.push(i);
    }
  }

  #cell(v: number, axis: 0 | 1): number {
    return Math.floor((v - this.#min[axis]) / this.#side);
  }

  get all(): boolean {
    return this.#all;
  }

  /** Calls `visit` with every centre in the cells at ring `r` around cell (gx, gy); false when the ring lies wholly outside the grid. */
  ring(gx: number, gy: number, r: number, visit: (j: number) => void): boolean {
    const [lastX, lastY] = this.#last;
    if (gx - r < 0 && gy - r < 0 && gx + r > lastX && gy + r > lastY) return false;
    const cell = (x: number, y: number): void => {
      if (x < 0 || y < 0 || x > lastX || y > lastY) return;
      for (const j of this.#cells.get(x * cellKeyStride + y) ?? []) visit(j);
    };
    if (r === 0) {
      cell(gx, gy);
      return true;
    }
    for (let x = gx - r; x <= gx + r; x++) {
      cell(x, gy - r);
      cell(x, gy + r);
    }
    for (let y = gy - r + 1; y <= gy + r - 1; y++) {
      cell(gx - r, y);
      cell(gx + r, y);
    }
    return true;
  }

  cellOf(x: number, y: number): [number, number] {
    return [this.#cell(x, 0), this.#cell(y, 1)];
  }

  get side(): number {
    return this.#side;
  }
}

/** The {@link NEIGHBOURS} nearest other centres to centre `i` by distance, ties by index. */
function nearestCentres(
  cx: Float64Array,
  cy: Float64Array,
  i: number,
  grid: CentreGrid,
): Array<{ j: number; d: number }> {
  const xi = cx[i] as number;
  const yi = cy[i] as number;
  const best: Array<{ j: number; d: number }> = [];
  const offer = (j: number): void => {
    if (j === i) return;
    const d = Math.hypot((cx[j] as number) - xi, (cy[j] as number) - yi);
    if (best.length === NEIGHBOURS) {
      const last = best[NEIGHBOURS - 1] as { j: number; d: number };
      if (d > last.d || (d === last.d && j > last.j)) return;
      best.pop();
    }
    let at = best.length;
    while (at > 0) {
      const prev = best[at - 1] as { j: number; d: number };
      if (prev.d < d || (prev.d === d && prev.j < j)) break;
      at--;
    }
    best.splice(at, 0, { j, d });
  };
  if (grid.all) {
    for (let j = 0; j < cx.length; j++) offer(j);
    return best;
  }
  const [gx, gy] = grid.cellOf(xi, yi);
  for (let r = 0; grid.ring(gx, gy, r, offer); r++) {
    // Every centre not seen yet lies more than (r - 1/2) cells away (half a cell of margin for
    // rounding); once the 5th found is nearer than that, none of them can displace it.
    if (best.length === NEIGHBOURS && (best[NEIGHBOURS - 1] as { d: number }).d < (r - 0.5) * grid.side) break;
  }
  return best;
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
  const touching = new BoxGrid(boxes);
  const centres = new CentreGrid(cx, cy);

  for (let i = 0; i < n; i++) {
    const b = boxes[i] as ClassifiedBox;
    const row: number[] = [];
    row.push(b.probability, isHiragana(b.code) ? 1 : 0, b.score, overlapRate(boxes, area, i, touching), pw, ph);
    row.push(...sizeRatios(i));

    const nearest = nearestCentres(cx, cy, i, centres);
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
