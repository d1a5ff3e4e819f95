/**
 * Non-local means denoising with OpenCV's exact integer arithmetic
 * (`FastNlMeansDenoisingInvoker<uchar|Vec2b, int, unsigned, DistSquared, int>`): squared
 * distances of 7×7 templates summed exactly, averaged by `>> 6` (OpenCV's "almost average"
 * over 64 instead of 49), a weight table `round(m · exp(−d / (h²·channels)))` with
 * m = ⌊INT_MAX / (21²·255)⌋ and weights below 0.001·m dropped, and the rounded integer
 * division `(Σ w·p + ⌊Σw/2⌋) / Σw`. Because every distance sum is an exact integer, the order of
 * evaluation does not change the result, so this port computes them offset by offset
 * (running box sums over a tile) instead of pixel by pixel, using the symmetry
 * S_d(p) = S_−d(p + d) to evaluate only half of the search offsets.
 */
import { roundHalfEven } from './rounding.js';

/** Parameters of one NL-means pass. */
export interface NlMeansParams {
  /** Filter strength h. */
  readonly h: number;
  /** Template (patch) side; OpenCV rounds it to an odd number. @default 7 */
  readonly templateWindowSize?: number;
  /** Search window side; OpenCV rounds it to an odd number. @default 21 */
  readonly searchWindowSize?: number;
}

/** Precomputed constants of a pass (shared by all strips). */
export interface NlMeansPlan {
  readonly channels: number;
  readonly templateHalf: number;
  readonly searchHalf: number;
  /** Border added around the image: searchHalf + templateHalf. */
  readonly border: number;
  readonly shift: number;
  readonly centreWeight: number;
  readonly weights: Int32Array;
}

/** Builds OpenCV's weight table for `channels` (1: L plane, 2: a and b together). */
export function planNlMeans(params: NlMeansParams, channels: number): NlMeansPlan {
  const templateHalf = Math.trunc((params.templateWindowSize ?? 7) / 2);
  const searchHalf = Math.trunc((params.searchWindowSize ?? 21) / 2);
  const tws = templateHalf * 2 + 1;
  const sws = searchHalf * 2 + 1;
  const fixedPointMult = Math.trunc(2147483647 / (sws * sws * 255));
  const twsSq = tws * tws;
  let shift = 0;
  while (1 << shift < twsSq) shift++;
  const almostToActual = (1 << shift) / twsSq;
  const maxDist = 255 * 255 * channels;
  const almostMaxDist = Math.trunc(maxDist / almostToActual + 1);
  const weights = new Int32Array(almostMaxDist);
  const hf = Math.fround(params.h);
  const denom = Math.fround(Math.fround(hf * hf) * channels);
  for (let ad = 0; ad < almostMaxDist; ad++) {
    const dist = ad * almostToActual;
    let w = Math.exp(-dist / denom);
    if (Number.isNaN(w)) w = 1;
    const weight = roundHalfEven(fixedPointMult * w); // cvRound
    weights[ad] = weight < 0.001 * fixedPointMult ? 0 : weight;
  }
  return {
    channels,
    templateHalf,
    searchHalf,
    border: searchHalf + templateHalf,
    shift,
    centreWeight: weights[0]!,
    weights,
  };
}

/** Tile size: the accumulators of one tile stay in cache. */
const tileRows = 96;
const tileCols = 256;

/**
 * Denoises output rows `[rowStart, rowEnd)`. `planes` are the channel planes of the image
 * extended by `plan.border` pixels on each side with BORDER_REFLECT_101 (width
 * `width + 2·border`); `outPlanes` are full-size channel planes of the image.
 */
export function nlMeansRows(
  plan: NlMeansPlan,
  planes: readonly Uint8Array[],
  width: number,
  outPlanes: readonly Uint8Array[],
  rowStart: number,
  rowEnd: number,
): void {
  const { channels, templateHalf: t, searchHalf: sh, border, shift, weights, centreWeight } = plan;
  const ew = width + 2 * border;
  const e0 = planes[0]!;
  const e1 = channels === 2 ? planes[1]! : planes[0]!;
  const two = channels === 2;
  const maxQw = tileCols + 2 * sh;
  const maxQh = tileRows + sh;
  const dScratch = new Int32Array((maxQh + 2 * t) * (maxQw + 2 * t));
  const vScratch = new Int32Array(maxQh * (maxQw + 2 * t));
  const sScratch = new Int32Array(maxQh * maxQw);
  const den = new Int32Array(tileRows * tileCols);
  const num0 = new Int32Array(tileRows * tileCols);
  const num1 = new Int32Array(two ? tileRows * tileCols : 0);

  for (let ty0 = rowStart; ty0 < rowEnd; ty0 += tileRows) {
    const ty1 = Math.min(ty0 + tileRows, rowEnd);
    const th = ty1 - ty0;
    for (let tx0 = 0; tx0 < width; tx0 += tileCols) {
      const tx1 = Math.min(tx0 + tileCols, width);
      const tw = tx1 - tx0;
      // Centre offset: distance 0, weight = the table's first entry.
      for (let y = 0; y < th; y++) {
        const eRow = (ty0 + y + border) * ew + tx0 + border;
        for (let x = 0; x < tw; x++) {
          const k = y * tw + x;
          den[k] = centreWeight;
          num0[k] = centreWeight * e0[eRow + x]!;
          if (two) num1[k] = centreWeight * e1[eRow + x]!;
        }
      }
      for (let dy = 0; dy <= sh; dy++) {
        for (let dx = -sh; dx <= sh; dx++) {
          if (dy === 0 && dx <= 0) continue;
          // Region of q covering both p and p − d for p in the tile.
          const qy0 = ty0 - dy;
          const qh = th + dy;
          const qx0 = tx0 - (dx > 0 ? dx : 0);
          const qw = tw + (dx < 0 ? -dx : dx);
          const dw = qw + 2 * t;
          const dOff = dy * ew + dx;
          computeD(e0, e1, two, dScratch, qh, dw, qy0, qx0, t, border, ew, dOff);
          boxWeights(dScratch, vScratch, sScratch, qh, qw, dw, t, weights, shift);
          if (two)
            accumulate2(sScratch, e0, e1, den, num0, num1, th, tw, qw, dy, dx, tx0 - qx0, ty0, tx0, border, ew, dOff);
          else accumulate1(sScratch, e0, den, num0, th, tw, qw, dy, dx, tx0 - qx0, ty0, tx0, border, ew, dOff);
        }
      }
      // Rounded integer division, as OpenCV's divByWeightsSum.
      for (let y = 0; y < th; y++) {
        const oRow = (ty0 + y) * width + tx0;
        for (let x = 0; x < tw; x++) {
          const k = y * tw + x;
          const d = den[k]!;
          const half = Math.floor(d / 2);
          const v0 = Math.floor((num0[k]! + half) / d);
          outPlanes[0]![oRow + x] = v0 > 255 ? 255 : v0;
          if (two) {
            const v1 = Math.floor((num1[k]! + half) / d);
            outPlanes[1]![oRow + x] = v1 > 255 ? 255 : v1;
          }
        }
      }
    }
  }
}

// Σ w·p stays below 2^31: 441 offsets · m (19096) · 255 = 2 147 440 680, so Int32 holds it exactly.
function accumulate1(
  sScratch: Int32Array,
  e0: Uint8Array,
  den: Int32Array,
  num0: Int32Array,
  th: number,
  tw: number,
  qw: number,
  dy: number,
  dx: number,
  pxOff: number,
  ty0: number,
  tx0: number,
  border: number,
  ew: number,
  dOff: number,
): void {
  for (let y = 0; y < th; y++) {
    const sRowP = (y + dy) * qw + pxOff;
    const sRowM = y * qw + pxOff - dx;
    const eRow = (ty0 + y + border) * ew + tx0 + border;
    const k0 = y * tw;
    for (let x = 0; x < tw; x++) {
      const w1 = sScratch[sRowP + x]!;
      const w2 = sScratch[sRowM + x]!;
      const k = k0 + x;
      const e = eRow + x;
      den[k] = (den[k]! + w1 + w2) | 0;
      num0[k] = (num0[k]! + w1 * e0[e + dOff]! + w2 * e0[e - dOff]!) | 0;
    }
  }
}

function accumulate2(
  sScratch: Int32Array,
  e0: Uint8Array,
  e1: Uint8Array,
  den: Int32Array,
  num0: Int32Array,
  num1: Int32Array,
  th: number,
  tw: number,
  qw: number,
  dy: number,
  dx: number,
  pxOff: number,
  ty0: number,
  tx0: number,
  border: number,
  ew: number,
  dOff: number,
): void {
  for (let y = 0; y < th; y++) {
    const sRowP = (y + dy) * qw + pxOff;
    const sRowM = y * qw + pxOff - dx;
    const eRow = (ty0 + y + border) * ew + tx0 + border;
    const k0 = y * tw;
    for (let x = 0; x < tw; x++) {
      const w1 = sScratch[sRowP + x]!;
      const w2 = sScratch[sRowM + x]!;
      const k = k0 + x;
      const e = eRow + x;
      den[k] = (den[k]! + w1 + w2) | 0;
      num0[k] = (num0[k]! + w1 * e0[e + dOff]! + w2 * e0[e - dOff]!) | 0;
      num1[k] = (num1[k]! + w1 * e1[e + dOff]! + w2 * e1[e - dOff]!) | 0;
    }
  }
}

function computeD(
  e0: Uint8Array,
  e1: Uint8Array,
  two: boolean,
  dScratch: Int32Array,
  qh: number,
  dw: number,
  qy0: number,
  qx0: number,
  t: number,
  border: number,
  ew: number,
  dOff: number,
): void {
  for (let r = 0; r < qh + 2 * t; r++) {
    let ei = (qy0 - t + r + border) * ew + qx0 - t + border;
    let di = r * dw;
    if (two) {
      for (let x = 0; x < dw; x++, ei++, di++) {
        const a = e0[ei]! - e0[ei + dOff]!;
        const b = e1[ei]! - e1[ei + dOff]!;
        dScratch[di] = a * a + b * b;
      }
    } else {
      for (let x = 0; x < dw; x++, ei++, di++) {
        const a = e0[ei]! - e0[ei + dOff]!;
        dScratch[di] = a * a;
      }
    }
  }
}

/** Box-sums D over the template and stores each position's weight (not its distance). */
function boxWeights(
  dScratch: Int32Array,
  vScratch: Int32Array,
  sScratch: Int32Array,
  qh: number,
  qw: number,
  dw: number,
  t: number,
  weights: Int32Array,
  shift: number,
): void {
  const tw2 = 2 * t + 1;
  for (let x = 0; x < dw; x++) {
    let s = 0;
    for (let r = 0; r < tw2; r++) s += dScratch[r * dw + x]!;
    vScratch[x] = s;
  }
  for (let r = 1; r < qh; r++) {
    const vi = r * dw;
    const prev = vi - dw;
    const add = (r + 2 * t) * dw;
    const sub = (r - 1) * dw;
    for (let x = 0; x < dw; x++) {
      vScratch[vi + x] = vScratch[prev + x]! + dScratch[add + x]! - dScratch[sub + x]!;
    }
  }
  for (let r = 0; r < qh; r++) {
    const vi = r * dw;
    const si = r * qw;
    let s = 0;
    for (let x = 0; x < tw2; x++) s += vScratch[vi + x]!;
    sScratch[si] = weights[s >> shift]!;
    for (let x = 1; x < qw; x++) {
      s += vScratch[vi + x + 2 * t]! - vScratch[vi + x - 1]!;
      sScratch[si + x] = weights[s >> shift]!;
    }
  }
}
