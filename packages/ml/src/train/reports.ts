/**
 * Files written beside the checkpoints after every epoch: `metrics.jsonl` (one line per epoch),
 * `confusion.json` (per-class validation accuracy and the most frequent confusions),
 * `val-predictions.json` (each validation crop's predicted label) and
 * `curve.png` ({@link curveSvg}: loss and held-out top-1 per epoch, with axes, units and a legend).
 */
import { renderSvgPng } from '@kzr/imaging';

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

/** Escapes text for SVG. */
function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Tick values from 0 up to the first at or above `max` (about five, on 1 / 2 / 5 steps). */
function ticks(max: number): number[] {
  const raw = max / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((v) => v >= raw)!;
  return Array.from({ length: Math.ceil(max / step - 1e-9) + 1 }, (_, k) => Number((k * step).toPrecision(6)));
}

/**
 * The training curve as an SVG chart: x the epoch (from 1), left axis the mean training loss,
 * right axis held-out top-1 in %, with a legend; one marker per measured epoch (TTA only where
 * it was measured), lines between them, nothing drawn where nothing was measured.
 */
export function curveSvg(history: readonly EpochMetrics[], width = 640, height = 360): string {
  const m = { left: 64, right: 64, top: 40, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const epochs = Math.max(1, history.at(-1)?.epoch ?? 1);
  const lossTicks = ticks(Math.max(...history.map((e) => e.trainLoss), 1e-6));
  const lossMax = lossTicks.at(-1)! > 0 ? lossTicks.at(-1)! : 1;
  const x = (epoch: number): number => m.left + (epochs === 1 ? w / 2 : ((epoch - 1) / (epochs - 1)) * w);
  const yLoss = (v: number): number => m.top + h - (v / lossMax) * h;
  const yAcc = (v: number): number => m.top + h - v * h;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<g stroke="black" fill="none"><path d="M${m.left},${m.top}V${m.top + h}H${m.left + w}V${m.top}"/></g>`,
  ];
  const epochStep = Math.max(1, Math.ceil(epochs / 10));
  for (let e = 1; e <= epochs; e += epochStep) {
    parts.push(
      `<line x1="${x(e)}" y1="${m.top + h}" x2="${x(e)}" y2="${m.top + h + 4}" stroke="black"/>`,
      `<text x="${x(e)}" y="${m.top + h + 16}" text-anchor="middle">${e}</text>`,
    );
  }
  for (const v of lossTicks) {
    parts.push(`<text x="${m.left - 6}" y="${yLoss(v) + 4}" text-anchor="end" fill="#c81e1e">${v}</text>`);
  }
  for (const v of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    parts.push(
      `<line x1="${m.left}" y1="${yAcc(v)}" x2="${m.left + w}" y2="${yAcc(v)}" stroke="#ddd"/>`,
      `<text x="${m.left + w + 6}" y="${yAcc(v) + 4}" fill="#1e3cdc">${Math.round(v * 100)}</text>`,
    );
  }
  parts.push(
    `<text x="${m.left + w / 2}" y="${height - 8}" text-anchor="middle">epoch</text>`,
    `<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle" fill="#c81e1e">train loss (mean per batch)</text>`,
    `<text transform="translate(${width - 12} ${m.top + h / 2}) rotate(90)" text-anchor="middle" fill="#1e3cdc">held-out top-1 (%)</text>`,
  );
  const series = [
    { name: 'train loss', colour: '#c81e1e', points: history.map((e) => [x(e.epoch), yLoss(e.trainLoss)] as const) },
    {
      name: 'top-1, centre view',
      colour: '#1e3cdc',
      points: history.map((e) => [x(e.epoch), yAcc(e.valTop1)] as const),
    },
    {
      name: 'top-1, TTA 7-crop',
      colour: '#1e9646',
      points: history.flatMap((e) => (e.valTop1Tta === undefined ? [] : [[x(e.epoch), yAcc(e.valTop1Tta)] as const])),
    },
  ];
  series.forEach((s, k) => {
    if (s.points.length > 1) {
      const d = s.points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    }
    for (const [px, py] of s.points)
      parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${s.colour}"/>`);
    const lx = m.left + 8 + k * 170;
    parts.push(
      `<line x1="${lx}" y1="${m.top - 16}" x2="${lx + 20}" y2="${m.top - 16}" stroke="${s.colour}" stroke-width="2"/>`,
      `<circle cx="${lx + 10}" cy="${m.top - 16}" r="3" fill="${s.colour}"/>`,
      `<text x="${lx + 26}" y="${m.top - 12}">${xml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
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
  await storage.put('curve.png', new Uint8Array(await renderSvgPng(curveSvg(history))));
}
