/**
 * Files written beside the checkpoints after every epoch: `metrics.jsonl` (one line per epoch),
 * `confusion.json` (per-class validation accuracy and the most frequent confusions),
 * `val-predictions.json` (each validation crop's predicted label) and
 * `curve.png` (train loss in red, scaled to its maximum; val top-1 in blue, 0–1).
 */
import { createRawImage, encodePng, type RawImage } from '@kzr/imaging';

import { type EpochMetrics } from './checkpoint.js';
import { type CheckpointStorage } from './storage.js';

/** The confusion summary of one validation pass. */
export interface ConfusionSummary {
  readonly top1: number;
  readonly perClass: ReadonlyArray<{ readonly label: string; readonly count: number; readonly accuracy: number }>;
  readonly confusions: ReadonlyArray<{ readonly truth: string; readonly predicted: string; readonly count: number }>;
}

/** Summarises validation predictions (labels of −1 are classes unknown to the model). */
export function confusionSummary(
  classes: readonly string[],
  labels: readonly number[],
  predictions: Int32Array,
  top = 20,
): ConfusionSummary {
  const perClass = new Map<number, { count: number; correct: number }>();
  const pairs = new Map<string, number>();
  let correct = 0;
  labels.forEach((y, i) => {
    const p = predictions[i]!;
    const entry = perClass.get(y) ?? { count: 0, correct: 0 };
    entry.count++;
    if (p === y) {
      entry.correct++;
      correct++;
    } else {
      const key = `${y}\t${p}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    perClass.set(y, entry);
  });
  const name = (i: number): string => (i < 0 ? '(unknown)' : classes[i]!);
  return {
    top1: labels.length === 0 ? 0 : correct / labels.length,
    perClass: [...perClass.entries()]
      .sort(([a], [b]) => a - b)
      .map(([y, e]) => ({ label: name(y), count: e.count, accuracy: e.correct / e.count })),
    confusions: [...pairs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, count]) => {
        const [t, p] = key.split('\t').map(Number) as [number, number];
        return { truth: name(t), predicted: name(p), count };
      }),
  };
}

function line(img: RawImage, x0: number, y0: number, x1: number, y1: number, rgb: readonly number[]): void {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let s = 0; s <= steps; s++) {
    const x = Math.round(x0 + ((x1 - x0) * s) / steps);
    const y = Math.round(y0 + ((y1 - y0) * s) / steps);
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
    for (let dy = 0; dy < 2; dy++) {
      const yy = Math.min(img.height - 1, y + dy);
      img.data.set(rgb, (yy * img.width + x) * 3);
    }
  }
}

/** Draws the training curve: loss (red, scaled to its maximum) and val top-1 (blue, 0–1). */
export function drawCurve(history: readonly EpochMetrics[], width = 480, height = 240): RawImage {
  const img = createRawImage(width, height, 3);
  img.data.fill(255);
  const m = 20;
  line(img, m, height - m, width - m, height - m, [0, 0, 0]);
  line(img, m, m, m, height - m, [0, 0, 0]);
  if (history.length === 0) return img;
  const maxLoss = Math.max(...history.map((h) => h.trainLoss), 1e-9);
  const px = (i: number): number => m + ((width - 2 * m) * (i + 1)) / history.length;
  const py = (v: number): number => height - m - (height - 2 * m) * Math.min(Math.max(v, 0), 1);
  let prev: [number, number, number, number] = [m, py(history[0]!.trainLoss / maxLoss), m, py(0)];
  history.forEach((h, i) => {
    const cur: [number, number, number, number] = [px(i), py(h.trainLoss / maxLoss), px(i), py(h.valTop1)];
    line(img, prev[0], prev[1], cur[0], cur[1], [220, 30, 30]);
    line(img, prev[2], prev[3], cur[2], cur[3], [30, 60, 220]);
    prev = cur;
  });
  return img;
}

/**
 * Writes metrics.jsonl, confusion.json, val-predictions.json (the epoch's centre-view top-1
 * label of every validation crop, in input order: what `kzr predict --view centre` gives for
 * the same crops and checkpoint) and curve.png.
 */
export async function writeReports(
  storage: CheckpointStorage,
  history: readonly EpochMetrics[],
  classes: readonly string[],
  valLabels: readonly number[],
  predictions: Int32Array,
): Promise<void> {
  const enc = new TextEncoder();
  await storage.put('metrics.jsonl', enc.encode(history.map((h) => JSON.stringify(h)).join('\n') + '\n'));
  await storage.put(
    'confusion.json',
    enc.encode(JSON.stringify(confusionSummary(classes, valLabels, predictions), null, 2)),
  );
  const epoch = history.at(-1)?.epoch ?? 0;
  const labels = Array.from(predictions, (p) => classes[p]!);
  await storage.put('val-predictions.json', enc.encode(JSON.stringify({ epoch, view: 'centre', labels })));
  await storage.put('curve.png', new Uint8Array(await encodePng(drawCurve(history))));
}
