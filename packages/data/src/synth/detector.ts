/**
 * Simulated character detectors for synthetic pages: from the ground-truth boxes of a page, a
 * detector misses some characters, returns the rest with jittered boxes and a high score, and
 * adds false positives (half of them fragments of real characters, half stray marks) with a
 * lower score. Two detectors with different settings stand in for the two checkpoints the
 * upstream pipeline merges with NMS (spec §6.1).
 */
import type { CharLabel, Detection, Rng } from '@kzr/core';

/** Settings of one simulated detector. Fractions are of the true box's width or height. */
export interface DetectorSimulation {
  /** Name of the detection set (the JSON `name`, and the file `detections/<name>.json`). */
  readonly name: string;
  /** Standard deviation of the box edges' shift, as a fraction of the box side. */
  readonly boxJitter: number;
  /** Probability that a true character gets no box. */
  readonly missRate: number;
  /** Expected false positives per true character on the page (a page with none gets `emptyPageFalsePositives`). */
  readonly falsePositiveRate: number;
  /** Expected false positives on a page with no characters. */
  readonly emptyPageFalsePositives: number;
  /** Scores of found characters: a normal distribution clipped to [0.05, 1]. */
  readonly truePositiveScore: { readonly mean: number; readonly sd: number };
  /** Scores of false positives: uniform in [min, max]. */
  readonly falsePositiveScore: { readonly min: number; readonly max: number };
}

/**
 * The two default detectors. `det-a` is the better one (the later checkpoint); `det-b` misses
 * and hallucinates about twice as often and places boxes less precisely.
 */
export const DEFAULT_DETECTORS: readonly DetectorSimulation[] = [
  {
    name: 'det-a',
    boxJitter: 0.04,
    missRate: 0.03,
    falsePositiveRate: 0.04,
    emptyPageFalsePositives: 1,
    truePositiveScore: { mean: 0.93, sd: 0.05 },
    falsePositiveScore: { min: 0.05, max: 0.75 },
  },
  {
    name: 'det-b',
    boxJitter: 0.07,
    missRate: 0.06,
    falsePositiveRate: 0.08,
    emptyPageFalsePositives: 2,
    truePositiveScore: { mean: 0.88, sd: 0.08 },
    falsePositiveScore: { min: 0.05, max: 0.8 },
  },
];

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Rounds to 1/10 pixel or 1/10000 of a score, so the JSON stays short and exact. */
function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function poisson(rng: Rng, mean: number): number {
  // Knuth's method; means here are small (a few per page).
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

function boxInPage(x: number, y: number, w: number, h: number, pageWidth: number, pageHeight: number): Detection {
  const width = clamp(w, 2, pageWidth);
  const height = clamp(h, 2, pageHeight);
  const left = clamp(x, 0, pageWidth - width);
  const top = clamp(y, 0, pageHeight - height);
  return { x: round(left, 1), y: round(top, 1), width: round(width, 1), height: round(height, 1), score: 0 };
}

/**
 * Simulates one detector on one page. Detections come sorted by score, highest first (ties in
 * generation order), as detectors usually report them.
 */
export function simulateDetections(
  truth: readonly CharLabel[],
  pageWidth: number,
  pageHeight: number,
  sim: DetectorSimulation,
  rng: Rng,
): Detection[] {
  const out: Detection[] = [];
  for (const label of truth) {
    if (rng.next() < sim.missRate) continue;
    const dx1 = rng.normal() * sim.boxJitter * label.width;
    const dx2 = rng.normal() * sim.boxJitter * label.width;
    const dy1 = rng.normal() * sim.boxJitter * label.height;
    const dy2 = rng.normal() * sim.boxJitter * label.height;
    const box = boxInPage(
      label.x + dx1,
      label.y + dy1,
      label.width + dx2 - dx1,
      label.height + dy2 - dy1,
      pageWidth,
      pageHeight,
    );
    const score = clamp(sim.truePositiveScore.mean + rng.normal() * sim.truePositiveScore.sd, 0.05, 1);
    out.push({ ...box, score: round(score, 4) });
  }

  const meanSide =
    truth.length === 0
      ? Math.min(pageWidth, pageHeight) / 20
      : truth.reduce((s, l) => s + (l.width + l.height) / 2, 0) / truth.length;
  const falsePositives =
    truth.length === 0 ? poisson(rng, sim.emptyPageFalsePositives) : poisson(rng, sim.falsePositiveRate * truth.length);
  for (let i = 0; i < falsePositives; i++) {
    let box: Detection;
    const host = truth.length > 0 && rng.next() < 0.5 ? truth[rng.int(truth.length)] : undefined;
    if (host) {
      // A fragment of a real character: its top or bottom part, or a box spanning two characters' gap.
      const part = rng.uniform(0.35, 0.6);
      const top = rng.next() < 0.5;
      box = boxInPage(
        host.x + rng.normal() * 0.05 * host.width,
        top ? host.y : host.y + host.height * (1 - part),
        host.width * rng.uniform(0.8, 1.1),
        host.height * part,
        pageWidth,
        pageHeight,
      );
    } else {
      // A stray mark: ink spot, stain or ruling line fragment anywhere on the page.
      const w = meanSide * rng.uniform(0.4, 1.2);
      const h = meanSide * rng.uniform(0.4, 1.2);
      box = boxInPage(rng.uniform(0, pageWidth - w), rng.uniform(0, pageHeight - h), w, h, pageWidth, pageHeight);
    }
    const score = rng.uniform(sim.falsePositiveScore.min, sim.falsePositiveScore.max);
    out.push({ ...box, score: round(score, 4) });
  }
  return out
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d.score - a.d.score || a.i - b.i)
    .map(({ d }) => d);
}
