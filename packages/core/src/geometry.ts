/**
 * Boxes, IoU and greedy non-maximum suppression. The one implementation of each in kzr
 * (DESIGN.md: services and ml compose these and never re-implement them).
 */
import { InvalidArgumentError } from './errors.js';

/** An axis-aligned box: left, top, width, height, in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Intersection over union with upstream's "+1 pixel" convention (spec §5.2): a box spans
 * x1 = x to x2 = x + width inclusive, so its area is (width + 1)(height + 1) and the
 * intersection is max(0, min(x2) - max(x1) + 1) times the same in y.
 */
export function iou(a: Box, b: Box): number {
  const ax2 = a.x + a.width;
  const ay2 = a.y + a.height;
  const bx2 = b.x + b.width;
  const by2 = b.y + b.height;
  const iw = Math.min(ax2, bx2) - Math.max(a.x, b.x) + 1;
  const ih = Math.min(ay2, by2) - Math.max(a.y, b.y) + 1;
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.width + 1) * (a.height + 1) + (b.width + 1) * (b.height + 1) - inter;
  return inter / union;
}

/** Options of {@link nms}. */
export interface NmsOptions<T> {
  /** A box is suppressed when its IoU with a kept box is strictly above this. */
  iouThreshold: number;
  /** The key boxes are ranked by, highest first (detection score, class probability, ...). */
  score: (item: T, index: number) => number;
  /** How to read an item's box; defaults to the item itself. */
  box?: (item: T, index: number) => Box;
}

/**
 * Greedy NMS keyed by any score. Items are ranked by score descending, ties in input order
 * (stable); an item is kept iff no already kept item has IoU above `iouThreshold` with it.
 * Returns the kept indices in ascending input order (as upstream's set iteration gives them).
 *
 * This is the intended behaviour of upstream's pairwise routine (spec §6.1), without its quirk
 * that an already suppressed box goes on suppressing others (see the package README).
 */
export function nms<T>(items: readonly T[], options: NmsOptions<T>): number[] {
  const { iouThreshold } = options;
  if (!Number.isFinite(iouThreshold))
    throw new InvalidArgumentError('iouThreshold', `expected a number, got ${iouThreshold}`);
  const boxOf = options.box ?? ((item: T): Box => item as unknown as Box);
  const scores = items.map((item, i) => options.score(item, i));
  scores.forEach((s, i) => {
    if (Number.isNaN(s)) throw new InvalidArgumentError(`score[${i}]`, 'is NaN');
  });
  const boxes = items.map((item, i) => boxOf(item, i));
  const order = items.map((_, i) => i).sort((i, j) => scores[j]! - scores[i]! || i - j);
  const kept: number[] = [];
  for (const i of order) {
    const box = boxes[i]!;
    if (kept.every((k) => iou(boxes[k]!, box) <= iouThreshold)) kept.push(i);
  }
  return kept.sort((a, b) => a - b);
}

/** The centre of a box. */
export function boxCenter(box: Box): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}
