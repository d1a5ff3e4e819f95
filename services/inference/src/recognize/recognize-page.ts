/**
 * Page recognition (spec §5.2–§5.4, §6.1): for each detection set, greedy NMS at IoU 0.3 keyed
 * by the detection score, inference crops padded by 10 % of the mean side, the TTA ensemble;
 * then the sets merged by NMS keyed by the classification probability (core/postprocess), and
 * the characters put in reading order (columns right to left, top to bottom). Shared by the
 * gRPC service and `kzr recognize` in process.
 */
import { boxCenter, charOfCode, isUnicodeCode, nms, readingOrder } from '@kzr/core';
import { boxPoint, type ClassifiedBox, MERGE_IOU_THRESHOLD, mergeDetectionSets } from '@kzr/core/postprocess';
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

/** Options of {@link recognizePage}. */
export interface RecognizeOptions {
  readonly voting?: VotingMode;
  /** Characters whose probability is below this are flagged. @default 0.5 */
  readonly lowConfidenceThreshold?: number;
  /** @default true */
  readonly tta?: boolean;
  /** Labels kept per character. @default 3 */
  readonly topK?: number;
  /** Checked between steps (deadline, cancellation). */
  readonly signal?: AbortSignal;
}

/** A recognised character. */
export interface RecognizedCharacter {
  readonly code: string;
  readonly character: string;
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly centerX: number;
  readonly centerY: number;
  readonly probability: number;
  readonly detectorScore: number;
  readonly detectionSet: string;
  readonly column: number;
  readonly order: number;
  readonly lowConfidence: boolean;
  readonly top: readonly LabelScore[];
}

/** The page's characters in reading order, its text and its Kaggle labels string. */
export interface PageRecognition {
  readonly characters: readonly RecognizedCharacter[];
  /** One line per column, right to left. */
  readonly text: string;
  /** `U+XXXX cx cy` triples (Python-rounded centres), as a Kaggle submission's labels field. */
  readonly kaggleLabels: string;
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

interface Candidate {
  readonly set: number;
  readonly detection: DetectionInput;
}

/** Recognises one page with a loaded model set. */
export async function recognizePage(
  set: LoadedModelSet,
  page: RawImage,
  sets: readonly DetectionSetInput[],
  options: RecognizeOptions = {},
): Promise<PageRecognition> {
  checkDetectionSets(sets, page.width, page.height);
  const threshold = options.lowConfidenceThreshold ?? 0.5;
  const candidates: Candidate[] = [];
  sets.forEach((s, si) => {
    const kept = nms(s.detections, { iouThreshold: perSetNmsIou, score: (d) => d.score });
    for (const i of kept) candidates.push({ set: si, detection: s.detections[i]! });
  });
  const crops = candidates.map(
    (c, i) => cutCharacter(page, c.detection, { policy: PaddingPolicy.Infer, field: `candidates[${i}].box` }).image,
  );
  options.signal?.throwIfAborted();
  const predictions = await classifyCrops(set, crops, {
    ...(options.tta !== undefined ? { tta: options.tta } : {}),
    ...(options.voting !== undefined ? { voting: options.voting } : {}),
    topK: options.topK ?? 3,
  });
  options.signal?.throwIfAborted();
  // Per set, the classified boxes; the boxes carry their candidate index through the merge.
  const bySet: Array<Array<ClassifiedBox & { readonly candidate: number }>> = sets.map(() => []);
  candidates.forEach((c, i) => {
    const p = predictions[i]!;
    bySet[c.set]!.push({
      code: p.label.code,
      probability: p.label.probability,
      score: c.detection.score,
      x: c.detection.x,
      y: c.detection.y,
      width: c.detection.width,
      height: c.detection.height,
      candidate: i,
    });
  });
  const merged = mergeDetectionSets(bySet, MERGE_IOU_THRESHOLD) as Array<
    ClassifiedBox & { readonly candidate: number }
  >;
  const positions = readingOrder(merged);
  const characters = merged
    .map((b, i): RecognizedCharacter => {
      const c = boxCenter(b);
      const p = predictions[b.candidate]!;
      const pos = positions[i]!;
      return {
        code: b.code,
        character: isUnicodeCode(b.code) ? charOfCode(b.code) : '',
        box: { x: b.x, y: b.y, width: b.width, height: b.height },
        centerX: c.x,
        centerY: c.y,
        probability: b.probability,
        detectorScore: b.score,
        detectionSet: sets[candidates[b.candidate]!.set]!.name,
        column: pos.column,
        order: pos.order,
        lowConfidence: b.probability < threshold,
        top: p.top,
      };
    })
    .sort((a, b) => a.order - b.order);
  const lines: string[] = [];
  for (const ch of characters) lines[ch.column] = (lines[ch.column] ?? '') + ch.character;
  const kaggleLabels = characters
    .map((ch) => boxPoint({ ...ch.box, code: ch.code, probability: ch.probability, score: ch.detectorScore }))
    .map((p) => `${p.code} ${p.x} ${p.y}`)
    .join(' ');
  return { characters, text: Array.from(lines, (l) => l ?? '').join('\n'), kaggleLabels };
}
