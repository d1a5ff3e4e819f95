/**
 * Reading order of vertical Japanese text: characters form columns, columns are read right to
 * left, characters top to bottom inside a column.
 *
 * Columns are grown top-down: characters are visited by centre y, and each joins the column
 * whose predicted centre x at its height is nearest, if within half the larger of its own and
 * the column's mean width; otherwise it starts a new column. A column's prediction is a line
 * fitted through its last few centres, so slanted and skewed columns are followed, and a mean
 * rather than the last box, so uneven (jittered, narrow or side-by-side) characters do not
 * derail it. Fragments of one column are then joined, and columns are ranked right to left by
 * their mean centre x corrected for the page's common slant.
 */
import type { Box } from './geometry.js';

/** Where a character sits in the reading order. */
export interface ReadingPosition {
  /** 0-based column, 0 = rightmost. */
  column: number;
  /** 0-based position on the page in reading order. */
  order: number;
}

/** Options of {@link readingOrder}. */
export interface ReadingOrderOptions {
  /** Largest |dx/dy| a column may lean (clamps fitted slopes). @default 0.35 */
  maxSlope?: number;
  /** Centres used to predict a column's x. @default 6 */
  fitWindow?: number;
}

/** How far (|dx/dy|) one column's lean may differ from the page's common slant. */
const LEAN_TOLERANCE = 0.06;

interface Column {
  members: number[];
  sumWidth: number;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Least-squares slope of x over y, or 0 when the y spread is too small to tell. */
function fitSlope(xs: readonly number[], ys: readonly number[], minSpread: number, maxSlope: number): number {
  const n = xs.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    syy += (ys[i]! - my) ** 2;
  }
  if (syy / n < minSpread * minSpread) return 0;
  return Math.max(-maxSlope, Math.min(maxSlope, sxy / syy));
}

/**
 * The reading position of every box (same order as the input): its column (0 = rightmost) and
 * its 0-based order on the page. The result does not depend on the input order of the boxes
 * (except among boxes with identical centres).
 */
export function readingOrder(boxes: readonly Box[], options: ReadingOrderOptions = {}): ReadingPosition[] {
  const n = boxes.length;
  if (n === 0) return [];
  const maxSlope = options.maxSlope ?? 0.35;
  const window = options.fitWindow ?? 6;
  const cx = boxes.map((b) => b.x + b.width / 2);
  const cy = boxes.map((b) => b.y + b.height / 2);
  const w = boxes.map((b) => Math.max(b.width, 1));
  const medW = median(w);
  const medH = median(boxes.map((b) => Math.max(b.height, 1)));

  const predict = (col: Column, y: number): number => {
    const recent = col.members.slice(-window);
    const xs = recent.map((i) => cx[i]!);
    const ys = recent.map((i) => cy[i]!);
    const slope = fitSlope(xs, ys, medH * 0.75, maxSlope);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    return mx + slope * (y - my);
  };
  const tolerance = (col: Column, i: number): number =>
    0.5 * Math.max(w[i]!, col.sumWidth / col.members.length, 0.5 * medW);
  // The band the column's recent characters cover at height y (their union, moved along the slope).
  const inEnvelope = (col: Column, i: number): boolean => {
    const recent = col.members.slice(-window);
    const slope = fitSlope(
      recent.map((m) => cx[m]!),
      recent.map((m) => cy[m]!),
      medH * 0.75,
      maxSlope,
    );
    let left = Infinity;
    let right = -Infinity;
    for (const m of recent) {
      const shift = slope * (cy[i]! - cy[m]!);
      left = Math.min(left, boxes[m]!.x + shift);
      right = Math.max(right, boxes[m]!.x + boxes[m]!.width + shift);
    }
    return left < cx[i]! && cx[i]! < right;
  };

  const visit = boxes.map((_, i) => i).sort((a, b) => cy[a]! - cy[b]! || cx[b]! - cx[a]! || a - b);
  let columns: Column[] = [];
  for (const i of visit) {
    let best: Column | undefined;
    let bestCost = Infinity;
    for (const col of columns) {
      const tol = tolerance(col, i);
      const cost = Math.abs(cx[i]! - predict(col, cy[i]!)) / tol;
      if ((cost <= 1 || inEnvelope(col, i)) && cost < bestCost) {
        best = col;
        bestCost = cost;
      }
    }
    if (best === undefined) columns.push({ members: [i], sumWidth: w[i]! });
    else {
      best.members.push(i);
      best.sumWidth += w[i]!;
    }
  }

  // Refine the greedy result: a column whose characters all lie on another column's line is a
  // fragment of it (merge, smallest first); then each character moves to the column whose line
  // it fits clearly better. Lines are fitted through all of a column's centres.
  const slantOf = (cols: readonly Column[]): number =>
    median(
      cols
        .filter((col) => col.members.length >= 4)
        .map((col) =>
          fitSlope(
            col.members.map((i) => cx[i]!),
            col.members.map((i) => cy[i]!),
            medH,
            maxSlope,
          ),
        ),
    );
  // Columns run nearly parallel: a column's own lean may differ from the page's by a few degrees.
  const greedySlant = slantOf(columns);
  const lineOf = (col: Column): { mx: number; my: number; slope: number } => {
    const xs = col.members.map((i) => cx[i]!);
    const ys = col.members.map((i) => cy[i]!);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const spread = Math.max(...ys) - Math.min(...ys);
    const own = spread >= medH * 1.5 ? fitSlope(xs, ys, 0, maxSlope) : greedySlant;
    const slope = Math.max(greedySlant - LEAN_TOLERANCE, Math.min(greedySlant + LEAN_TOLERANCE, own));
    return { mx, my, slope };
  };
  const fits = (col: Column, line: { mx: number; my: number; slope: number }, i: number): number =>
    Math.abs(cx[i]! - (line.mx + line.slope * (cy[i]! - line.my))) / tolerance(col, i);
  for (let pass = 0; pass < 4; pass++) {
    let changed = false;
    let merging = true;
    while (merging) {
      merging = false;
      const lines = new Map(columns.map((col) => [col, lineOf(col)] as const));
      const bySize = [...columns].sort((a, b) => a.members.length - b.members.length);
      for (const small of bySize) {
        const target = columns
          .filter((big) => big !== small && big.members.length >= small.members.length)
          .map((big) => ({ big, worst: Math.max(...small.members.map((i) => fits(big, lines.get(big)!, i))) }))
          .filter((t) => t.worst <= 1)
          .sort((a, b) => a.worst - b.worst)[0];
        if (target === undefined) continue;
        target.big.members.push(...small.members);
        target.big.sumWidth += small.sumWidth;
        columns = columns.filter((c) => c !== small);
        merging = true;
        changed = true;
        break;
      }
    }
    const lines = new Map(columns.map((col) => [col, lineOf(col)] as const));
    const owner = new Map<number, Column>();
    for (const col of columns) for (const i of col.members) owner.set(i, col);
    for (let i = 0; i < n; i++) {
      const current = owner.get(i)!;
      if (current.members.length === 1) continue;
      const here = fits(current, lines.get(current)!, i);
      let best = current;
      let bestCost = here;
      for (const col of columns) {
        if (col === current) continue;
        const cost = fits(col, lines.get(col)!, i);
        if (cost <= 1 && cost < bestCost * 0.5) {
          best = col;
          bestCost = cost;
        }
      }
      if (best !== current) {
        current.members = current.members.filter((m) => m !== i);
        current.sumWidth -= w[i]!;
        best.members.push(i);
        best.sumWidth += w[i]!;
        owner.set(i, best);
        changed = true;
      }
    }
    for (const col of columns) col.members.sort((a, b) => cy[a]! - cy[b]! || a - b);
    if (!changed) break;
  }

  const top = (col: Column): number => Math.min(...col.members.map((i) => cy[i]!));

  // Common slant of the page, to compare columns at one height.
  const slant = slantOf(columns);
  const yRef = median(cy);
  const key = (col: Column): number => {
    const mx = col.members.reduce((s, i) => s + cx[i]!, 0) / col.members.length;
    const my = col.members.reduce((s, i) => s + cy[i]!, 0) / col.members.length;
    return mx - slant * (my - yRef);
  };
  const ranked = columns
    .map((col) => ({ col, key: key(col) }))
    .sort((a, b) => b.key - a.key || top(a.col) - top(b.col));

  const out: ReadingPosition[] = new Array<ReadingPosition>(n);
  let order = 0;
  ranked.forEach(({ col }, column) => {
    const inColumn = [...col.members].sort((a, b) => cy[a]! - cy[b]! || cx[b]! - cx[a]! || a - b);
    for (const i of inColumn) out[i] = { column, order: order++ };
  });
  return out;
}

/** The input indices in reading order. */
export function readingSequence(boxes: readonly Box[], options?: ReadingOrderOptions): number[] {
  const positions = readingOrder(boxes, options);
  const sequence = new Array<number>(positions.length);
  positions.forEach((p, i) => (sequence[p.order] = i));
  return sequence;
}
