/**
 * Inference's step of the page path (spec §5.2–§5.4): for each detection set of a page, greedy
 * NMS at IoU 0.3 keyed by the detection score, inference crops padded by 10 % of the mean side,
 * the TTA ensemble. The sets stay separate: merging them, the false-positive filter and the
 * reading order are postprocess's FinalizePage. The page comes in as the model set needs it
 * (RecognizePage had it preprocessed as the set's manifest says).
 */
import { nms } from '@kzr/core';
import { cutCharacter, PaddingPolicy, type RawImage } from '@kzr/imaging';
import { ValidationError } from '@kzr/platform';
import { type VotingMode } from '@kzr/artifacts';

import { classifyCrops, type LabelScore } from '../ensemble/classify.js';
import { type LoadedModelSet } from '../models/load-model-set.js';

/** IoU above which a set's own boxes suppress each other before classification (spec §5.2). */
export const perSetNmsIou = 0.3;

/** A detection as the recognizer takes it: page pixels, top-left corner. */
export interface DetectionInput {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
}

/** One detection set of a page. */
export interface DetectionSetInput {
  readonly name: string;
  readonly detections: readonly DetectionInput[];
}

/** Checks the detection sets against the page; throws a ValidationError naming the bad field. */
export function checkDetectionSets(sets: readonly DetectionSetInput[], width: number, height: number): void {
  if (sets.length === 0) throw new ValidationError('detection_sets', 'at least one detection set is needed');
  const names = new Set<string>();
  sets.forEach((set, s) => {
    if (names.has(set.name)) throw new ValidationError(`detection_sets[${s}].name`, `duplicate set ${set.name}`);
    names.add(set.name);
    set.detections.forEach((d, i) => {
      const f = `detection_sets[${s}].detections[${i}]`;
      for (const k of ['x', 'y', 'width', 'height', 'score'] as const) {
        if (!Number.isFinite(d[k]))
          throw new ValidationError(`${f}.${k === 'score' ? 'score' : `box.${k}`}`, 'not a finite number');
      }
      if (d.width <= 0 || d.height <= 0) throw new ValidationError(`${f}.box`, `empty box ${d.width}x${d.height}`);
      if (d.x < 0 || d.y < 0 || d.x + d.width > width + 0.5 || d.y + d.height > height + 0.5) {
        throw new ValidationError(
          `${f}.box`,
          `box (${d.x}, ${d.y}, ${d.width}, ${d.height}) is outside the ${width}x${height} page`,
        );
      }
    });
  });
}

/** Options of {@link classifyDetectionSets}. */
export interface ClassifySetsOptions {
  readonly voting?: VotingMode;
  /** @default true */
  readonly tta?: boolean;
  /** Labels kept per character. @default 3 */
  readonly topK?: number;
  /** Checked between steps (deadline, cancellation). */
  readonly signal?: AbortSignal;
}

/** A detection with the ensemble's answer for its crop. */
export interface ClassifiedDetection {
  readonly detection: DetectionInput;
  /** The voted label first, then the next best. */
  readonly top: readonly LabelScore[];
}

/** The classified detections of one set, after the set's own NMS. */
export interface ClassifiedSet {
  readonly name: string;
  readonly detections: readonly ClassifiedDetection[];
}

/** Classifies the crops of each detection set of `page` with a loaded model set; no merging. */
export async function classifyDetectionSets(
  set: LoadedModelSet,
  page: RawImage,
  sets: readonly DetectionSetInput[],
  options: ClassifySetsOptions = {},
): Promise<ClassifiedSet[]> {
  checkDetectionSets(sets, page.width, page.height);
  const kept = sets.map((s) =>
    nms(s.detections, { iouThreshold: perSetNmsIou, score: (d) => d.score }).map((i) => s.detections[i]!),
  );
  const crops = kept.flatMap((detections, s) =>
    detections.map(
      (d, i) =>
        cutCharacter(page, d, { policy: PaddingPolicy.Infer, field: `detection_sets[${s}].detections[${i}].box` })
          .image,
    ),
  );
  options.signal?.throwIfAborted();
  const predictions = await classifyCrops(set, crops, {
    ...(options.tta !== undefined ? { tta: options.tta } : {}),
    ...(options.voting !== undefined ? { voting: options.voting } : {}),
    topK: options.topK ?? 3,
  });
  options.signal?.throwIfAborted();
  let at = 0;
  return kept.map((detections, s) => ({
    name: sets[s]!.name,
    detections: detections.map((detection) => ({ detection, top: predictions[at++]!.top })),
  }));
}
