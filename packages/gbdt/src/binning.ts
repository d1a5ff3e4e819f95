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

/**
 * The non-NaN values of `sample` in ascending order, as `Float64Array#sort` orders them (-0 before
 * +0), by a least-significant-digit radix sort on their bit patterns (16-bit digits, a pass skipped
 * when every value has the same digit). `order`, when given, receives the index in `sample` of
 * each sorted value. No nested functions: it is also worker source.
 */
export function sortedSample(sample: Float64Array, order?: Int32Array): Float64Array {
  const size = sample.length;
  const bits = new Uint32Array(new Float64Array(1).buffer);
  const word = new Float64Array(bits.buffer);
  let n = 0;
  for (let i = 0; i < size; i++) if (sample[i] === sample[i]) n++;
  // Keys that order as unsigned integers as the doubles do: negative values bit-inverted, others
  // with the sign bit set.
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  let idx = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < size; i++) {
    const v = sample[i] as number;
    if (v !== v) continue;
    word[0] = v;
    const h = bits[1] as number;
    const negative = h >>> 31 === 1;
    lo[m] = negative ? ~(bits[0] as number) >>> 0 : (bits[0] as number);
    hi[m] = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    idx[m] = i;
    m++;
  }
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  let idx2 = new Int32Array(n);
  const counts = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const keys = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const d = ((keys[i] as number) >>> shift) & 0xffff;
      counts[d] = (counts[d] as number) + 1;
    }
    if (n === 0 || counts[((keys[0] as number) >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d] as number;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const d = ((keys[i] as number) >>> shift) & 0xffff;
      const to = counts[d] as number;
      counts[d] = to + 1;
      lo2[to] = lo[i] as number;
      hi2[to] = hi[i] as number;
      idx2[to] = idx[i] as number;
    }
    const l = lo;
    lo = lo2;
    lo2 = l;
    const h = hi;
    hi = hi2;
    hi2 = h;
    const x = idx;
    idx = idx2;
    idx2 = x;
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = sample[idx[i] as number] as number;
  if (order) order.set(idx);
  return values;
}

/** Builds a mapper from a feature's sample values (NaN for missing). */
export function buildBinMapper(sample: Float64Array, maxBin: number, minDataInBin: number): BinMapper {
  return binMapperFromSorted(sortedSample(sample), sample.length, maxBin, minDataInBin);
}

/**
 * {@link buildBinMapper} from the sample's non-NaN values in ascending order (`sampleSize` counts
 * the NaNs too). No nested functions: it is also worker source.
 */
export function binMapperFromSorted(
  values: Float64Array,
  sampleSize: number,
  maxBin: number,
  minDataInBin: number,
): BinMapper {
  const nanCount = sampleSize - values.length;
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
