/**
 * NMS across detection result sets (spec §6.1): the sets' boxes are concatenated in set order
 * and reduced with core's greedy {@link nms}, keyed by the *classification* probability, with
 * the "+1" IoU and a box dropped when its IoU with a kept, more probable box is above 0.30.
 */
import { nms } from '../geometry.js';
import { InvalidArgumentError } from '../errors.js';
import type { ClassifiedBox } from './types.js';
import { checkBox } from './validate.js';

/** The upstream IoU threshold of the cross-set NMS. */
export const MERGE_IOU_THRESHOLD = 0.3;

/**
 * Merges any number of classified detection sets of one page. Returns the kept boxes in
 * concatenated order (set 0 first), each unchanged.
 */
export function mergeDetectionSets(
  sets: ReadonlyArray<readonly ClassifiedBox[]>,
  iouThreshold: number = MERGE_IOU_THRESHOLD,
): ClassifiedBox[] {
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) {
    throw new InvalidArgumentError('iouThreshold', `expected a value in [0, 1], got ${iouThreshold}`);
  }
  const all: ClassifiedBox[] = [];
  sets.forEach((set, s) =>
    set.forEach((box, i) => {
      checkBox(box, `sets[${s}][${i}]`);
      all.push(box);
    }),
  );
  const kept = nms(all, { iouThreshold, score: (box) => box.probability });
  return kept.map((i) => all[i] as ClassifiedBox);
}
