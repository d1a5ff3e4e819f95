/**
 * Histogram bins per feature, in the style of LightGBM's `BinMapper`: up to `max_bin` bins
 * whose upper bounds lie midway between distinct sample values (so a split threshold is a real
 * value that routes raw rows exactly as their bins), at least `min_data_in_bin` sample rows per
 * bin, and a separate last bin for NaN when the feature has missing values.
 */
import { MissingType } from './model.js';

/** How one feature's values map to bins. */
export interface BinMapper {
  /** Bins in all, the NaN bin included. */
  readonly numBins: number;
  /** Upper bound of each non-NaN bin; `v <= upperBounds[b]` for the first such b. The last is +∞. */
  readonly upperBounds: Float64Array;
  /** Index of the NaN bin, or -1 when the feature had no missing values (NaN then reads as 0). */
  readonly nanBin: number;
  readonly missingType: MissingType;
  /** True when the feature cannot split (one bin): its info is `none`. */
  readonly trivial: boolean;
  readonly min: number;
  readonly max: number;
}

/** Builds a mapper from a feature's sample values (NaN for missing). */
export function buildBinMapper(sample: Float64Array, maxBin: number, minDataInBin: number): BinMapper {
  let nanCount = 0;
  for (const v of sample) if (Number.isNaN(v)) nanCount++;
  const values = new Float64Array(sample.length - nanCount);
  let j = 0;
  for (const v of sample) if (!Number.isNaN(v)) values[j++] = v;
  values.sort();
  const n = values.length;
  // Distinct values are the runs of the sorted sample.
  let numDistinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || values[i] !== values[i - 1]) numDistinct++;
  const hasNan = nanCount > 0;
  const maxValueBins = Math.max(1, maxBin - (hasNan ? 1 : 0));
  const bounds: number[] = [];
  if (numDistinct > 1) {
    let remainingRows = n;
    let acc = 0;
    let i = 0;
    // Each run but the last may close a bin: its upper bound lies midway to the next value.
    for (;;) {
      let j = i + 1;
      while (j < n && values[j] === values[i]) j++;
      if (j >= n) break;
      acc += j - i;
      const binsLeft = maxValueBins - bounds.length;
      if (binsLeft <= 1) break;
      const target = numDistinct <= maxValueBins ? minDataInBin : Math.max(minDataInBin, remainingRows / binsLeft);
      if (acc >= target) {
        bounds.push(((values[i] as number) + (values[j] as number)) / 2);
        remainingRows -= acc;
        acc = 0;
      }
      i = j;
    }
  }
  bounds.push(Infinity);
  const numValueBins = bounds.length;
  return {
    numBins: numValueBins + (hasNan ? 1 : 0),
    upperBounds: Float64Array.from(bounds),
    nanBin: hasNan ? numValueBins : -1,
    missingType: hasNan ? MissingType.NaN : MissingType.None,
    trivial: numValueBins <= 1 && !hasNan,
    min: values.length > 0 ? (values[0] as number) : 0,
    max: values.length > 0 ? (values[values.length - 1] as number) : 0,
  };
}

/** The bin of one value. */
export function valueToBin(mapper: BinMapper, value: number): number {
  let v = value;
  if (Number.isNaN(v)) {
    if (mapper.nanBin >= 0) return mapper.nanBin;
    v = 0;
  }
  const bounds = mapper.upperBounds;
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= (bounds[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
