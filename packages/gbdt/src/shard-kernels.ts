/**
 * The per-row work of the trainer, for one shard: a contiguous range of training rows owned by
 * one thread for the whole training run. A shard computes its rows' gradients, keeps its bagged
 * rows partitioned by leaf, sums its rows into a partial histogram, and adds the finished tree's
 * leaf values to its rows' scores. The trainer runs shard 0 on its own thread and the others on
 * worker threads (`worker-team.ts`); the partial histograms and sums are added up afterwards.
 *
 * Gradients and hessians are rounded to a multiple of 2^-k, with k chosen so that no sum of them
 * over the training rows can exceed 2^53 units: every histogram sum, subtraction and total is
 * then exact, whatever the order or grouping of the rows, so any number of shards gives the
 * same trees bit for bit. (The rounding is far below what a leaf value can resolve: for 100k
 * rows and `sigmoid` 1 the unit is 2^-35.)
 *
 * These functions are also the worker's source (`Function.prototype.toString`): they use only
 * their arguments, each other, `sortedSample`, `binMapperFromSorted`, `valueToBin` and `lcgSkip` (which the worker
 * source includes as well) and JavaScript built-ins, with no nested functions. For the same
 * reason they read the control block by word number: the numbers are those of `Job`, `Command`
 * and `JobFloat` below.
 */
import { binMapperFromSorted, sortedSample, valueToBin } from './binning.js';
import { lcgSkip } from './random.js';

/** Job words of the control block (Int32Array) every shard reads. */
export const Job = {
  /** Sequence number: bumped by the trainer to start a job. */
  Seq: 0,
  /** Finish notices of the current job, to sleep on (each worker also marks the job done in a word of its own). */
  Done: 1,
  /** Set (and left set) by a worker that failed. */
  Failed: 2,
  Command: 3,
  /** Command arguments. */
  A0: 4,
  A1: 5,
  A2: 6,
  A3: 7,
  A4: 8,
  A5: 9,
  /** Number of features in the job's feature list. */
  NumFeatures: 10,
  /** The feature list, then each feature's histogram start (`offsets[f] * 3`), then its end. */
  Features: 11,
} as const;

/** Commands of the control block. */
export const Command = {
  /** Gradients, bagging (A0 = 2: draw a new bag from generator state A1; 1: the bag mask changed), leaf 0 and its histogram. */
  BeginTree: 1,
  /** Split leaf A0 into A0 and A1 on feature A2 at bin A3 (A4 = default left), then A5's histogram (-1: none). */
  Split: 2,
  /** Adds the leaf values (float block) to the scores; A0 = leaves. Out-of-bag rows walk the tree block. */
  EndTree: 3,
  Stop: 4,
  /**
   * Per feature (each shard every threads-th feature of the list): adds the workers' partial
   * histograms into slot A0, subtracts it from slot A1 (the parent, which becomes the large child;
   * -1: none), and finds the best split of slot A0 (when A2 = 1) and of slot A1 (when A3 = 1).
   */
  Scan: 5,
  /**
   * Binning: each shard takes the next feature (counter A0, from 0) until none is left, finds its
   * bin mapper from the sample rows, writes it to the binning block, and bins every row.
   */
  Bin: 6,
  /** Workers take the histogram arena posted to them (`WorkerTeam.setHistograms`). */
  Setup: 7,
} as const;

/** Float words of the control block (Float64Array). */
export const JobFloat = {
  Sigmoid: 0,
  Scale: 1,
  InvScale: 2,
  BaggingFraction: 3,
  /** Scan: gradient sum, hessian sum and rows of the small child, then of the large child. */
  LeafSums: 4,
  LeafValues: 10,
} as const;

/** Everything one shard works on. Row-indexed arrays are global (row r at r), read in `[lo, hi)` only. */
export interface Shard {
  /** This shard's number (0: the trainer's thread) and the number of shards. */
  readonly index: number;
  readonly threads: number;
  /** All histograms: `leafSlots` leaf slots, then one partial per worker, `stride` numbers each. */
  hists: Float64Array;
  stride: number;
  readonly leafSlots: number;
  /** Each feature's bins without the NaN bin. */
  readonly numValueBins: Int32Array;
  /** min_data_in_leaf, min_sum_hessian_in_leaf, lambda_l1, lambda_l2, min_gain_to_split. */
  readonly splitConfig: Float64Array;
  /** Scan results: per shard, per child (small, large): gain, feature, bin, default left, left G, left H, left rows, list position. */
  readonly best: Float64Array;
  readonly lo: number;
  readonly hi: number;
  readonly numRows: number;
  readonly numFeatures: number;
  /** Binning input (dropped after binning): the training values (row-major), the sample rows (empty: all rows), max_bin, min_data_in_bin. */
  values: Float64Array;
  sampleRows: Int32Array;
  readonly maxBin: number;
  readonly minDataInBin: number;
  /** Binning output: per feature `maxBin + 1` upper bounds, and [bounds, has NaN, min, max]. */
  readonly binBounds: Float64Array;
  readonly binMeta: Float64Array;
  /** Bins, feature-major: feature f, row r at `f * numRows + r`. */
  readonly bins: Uint8Array | Uint16Array;
  readonly labels: Float64Array;
  readonly score: Float64Array;
  /** Gradient and hessian of row r at 2r and 2r + 1. */
  readonly gh: Float64Array;
  /** 1 for rows in the current bag (written by the trainer before a rebag). */
  readonly inBag: Uint8Array;
  /** Each feature's NaN bin (-1: none). */
  readonly nanBin: Int32Array;
  /** This shard's bagged rows, grouped by leaf (indices `0 … hi - lo`). */
  readonly part: Int32Array;
  readonly scratch: Int32Array;
  /** Gradient and hessian of `part[k]` at 2k and 2k + 1 (a histogram's rows in its order). */
  readonly og: Float64Array;
  /** This shard's out-of-bag rows. */
  readonly oob: Int32Array;
  readonly leafBegin: Int32Array;
  readonly leafCount: Int32Array;
  /** [bag count, out-of-bag count]. */
  readonly counts: Int32Array;
  /** Where this shard sums its histogram. */
  hist: Float64Array;
  /** [sum of gradients, of hessians, rows] of leaf 0 after BeginTree. */
  readonly sums: Float64Array;
  readonly job: Int32Array;
  readonly jobFloat: Float64Array;
  /** The tree just grown, per node: feature, threshold bin, default left, left child, right child. */
  readonly tree: Int32Array;
}

/** Sums the shard's rows `part[begin … end)` into its histogram, for the job's features. */
export function shardHistogram(s: Shard, begin: number, end: number): void {
  const job = s.job;
  const nf = job[10] as number;
  const hist = s.hist;
  for (let j = 0; j < nf; j++) hist.fill(0, job[11 + nf + j] as number, job[11 + 2 * nf + j] as number);
  const { bins, gh, part, og } = s;
  const N = s.numRows;
  // Several passes over the rows read their gradients in leaf order (LightGBM's ordered
  // gradients), gathered once; a single pass (at most 16 features: the generated bench table's
  // 16 of 20) reads them where they are, as the gather would.
  const passes = Math.floor(nf / 16) + Math.floor((nf % 16) / 8) + Math.ceil((nf % 8) / 4);
  const direct = passes === 1;
  const src = direct ? gh : og;
  if (!direct) {
    for (let k = begin; k < end; k++) {
      const r = part[k] as number;
      og[2 * k] = gh[2 * r] as number;
      og[2 * k + 1] = gh[2 * r + 1] as number;
    }
  }
  // Sixteen, then eight, then four features at a time, each group one pass over the rows (fewer
  // passes over the rows' order and gradients: 16 features at once trained the bench table ~7 %
  // faster than 4 at once). Every bin still gets the same additions in the same row order.
  let j = 0;
  for (; nf - j >= 16; j += 16) {
    const o1 = job[11 + nf + j] as number;
    const c1 = (job[11 + j] as number) * N;
    const o2 = job[12 + nf + j] as number;
    const c2 = (job[12 + j] as number) * N;
    const o3 = job[13 + nf + j] as number;
    const c3 = (job[13 + j] as number) * N;
    const o4 = job[14 + nf + j] as number;
    const c4 = (job[14 + j] as number) * N;
    const o5 = job[15 + nf + j] as number;
    const c5 = (job[15 + j] as number) * N;
    const o6 = job[16 + nf + j] as number;
    const c6 = (job[16 + j] as number) * N;
    const o7 = job[17 + nf + j] as number;
    const c7 = (job[17 + j] as number) * N;
    const o8 = job[18 + nf + j] as number;
    const c8 = (job[18 + j] as number) * N;
    const o9 = job[19 + nf + j] as number;
    const c9 = (job[19 + j] as number) * N;
    const o10 = job[20 + nf + j] as number;
    const c10 = (job[20 + j] as number) * N;
    const o11 = job[21 + nf + j] as number;
    const c11 = (job[21 + j] as number) * N;
    const o12 = job[22 + nf + j] as number;
    const c12 = (job[22 + j] as number) * N;
    const o13 = job[23 + nf + j] as number;
    const c13 = (job[23 + j] as number) * N;
    const o14 = job[24 + nf + j] as number;
    const c14 = (job[24 + j] as number) * N;
    const o15 = job[25 + nf + j] as number;
    const c15 = (job[25 + j] as number) * N;
    const o16 = job[26 + nf + j] as number;
    const c16 = (job[26 + j] as number) * N;
    for (let k = begin; k < end; k++) {
      const r = part[k] as number;
      const x = direct ? 2 * r : 2 * k;
      const g = src[x] as number;
      const h = src[x + 1] as number;
      const i1 = o1 + (bins[c1 + r] as number) * 3;
      hist[i1] = (hist[i1] as number) + g;
      hist[i1 + 1] = (hist[i1 + 1] as number) + h;
      hist[i1 + 2] = (hist[i1 + 2] as number) + 1;
      const i2 = o2 + (bins[c2 + r] as number) * 3;
      hist[i2] = (hist[i2] as number) + g;
      hist[i2 + 1] = (hist[i2 + 1] as number) + h;
      hist[i2 + 2] = (hist[i2 + 2] as number) + 1;
      const i3 = o3 + (bins[c3 + r] as number) * 3;
      hist[i3] = (hist[i3] as number) + g;
      hist[i3 + 1] = (hist[i3 + 1] as number) + h;
      hist[i3 + 2] = (hist[i3 + 2] as number) + 1;
      const i4 = o4 + (bins[c4 + r] as number) * 3;
      hist[i4] = (hist[i4] as number) + g;
      hist[i4 + 1] = (hist[i4 + 1] as number) + h;
      hist[i4 + 2] = (hist[i4 + 2] as number) + 1;
      const i5 = o5 + (bins[c5 + r] as number) * 3;
      hist[i5] = (hist[i5] as number) + g;
      hist[i5 + 1] = (hist[i5 + 1] as number) + h;
      hist[i5 + 2] = (hist[i5 + 2] as number) + 1;
      const i6 = o6 + (bins[c6 + r] as number) * 3;
      hist[i6] = (hist[i6] as number) + g;
      hist[i6 + 1] = (hist[i6 + 1] as number) + h;
      hist[i6 + 2] = (hist[i6 + 2] as number) + 1;
      const i7 = o7 + (bins[c7 + r] as number) * 3;
      hist[i7] = (hist[i7] as number) + g;
      hist[i7 + 1] = (hist[i7 + 1] as number) + h;
      hist[i7 + 2] = (hist[i7 + 2] as number) + 1;
      const i8 = o8 + (bins[c8 + r] as number) * 3;
      hist[i8] = (hist[i8] as number) + g;
      hist[i8 + 1] = (hist[i8 + 1] as number) + h;
      hist[i8 + 2] = (hist[i8 + 2] as number) + 1;
      const i9 = o9 + (bins[c9 + r] as number) * 3;
      hist[i9] = (hist[i9] as number) + g;
      hist[i9 + 1] = (hist[i9 + 1] as number) + h;
      hist[i9 + 2] = (hist[i9 + 2] as number) + 1;
      const i10 = o10 + (bins[c10 + r] as number) * 3;
      hist[i10] = (hist[i10] as number) + g;
      hist[i10 + 1] = (hist[i10 + 1] as number) + h;
      hist[i10 + 2] = (hist[i10 + 2] as number) + 1;
      const i11 = o11 + (bins[c11 + r] as number) * 3;
      hist[i11] = (hist[i11] as number) + g;
      hist[i11 + 1] = (hist[i11 + 1] as number) + h;
      hist[i11 + 2] = (hist[i11 + 2] as number) + 1;
      const i12 = o12 + (bins[c12 + r] as number) * 3;
      hist[i12] = (hist[i12] as number) + g;
      hist[i12 + 1] = (hist[i12 + 1] as number) + h;
      hist[i12 + 2] = (hist[i12 + 2] as number) + 1;
      const i13 = o13 + (bins[c13 + r] as number) * 3;
      hist[i13] = (hist[i13] as number) + g;
      hist[i13 + 1] = (hist[i13 + 1] as number) + h;
      hist[i13 + 2] = (hist[i13 + 2] as number) + 1;
      const i14 = o14 + (bins[c14 + r] as number) * 3;
      hist[i14] = (hist[i14] as number) + g;
      hist[i14 + 1] = (hist[i14 + 1] as number) + h;
      hist[i14 + 2] = (hist[i14 + 2] as number) + 1;
      const i15 = o15 + (bins[c15 + r] as number) * 3;
      hist[i15] = (hist[i15] as number) + g;
      hist[i15 + 1] = (hist[i15 + 1] as number) + h;
      hist[i15 + 2] = (hist[i15 + 2] as number) + 1;
      const i16 = o16 + (bins[c16 + r] as number) * 3;
      hist[i16] = (hist[i16] as number) + g;
      hist[i16 + 1] = (hist[i16 + 1] as number) + h;
      hist[i16 + 2] = (hist[i16 + 2] as number) + 1;
    }
  }
  for (; nf - j >= 8; j += 8) {
    const o1 = job[11 + nf + j] as number;
    const c1 = (job[11 + j] as number) * N;
    const o2 = job[12 + nf + j] as number;
    const c2 = (job[12 + j] as number) * N;
    const o3 = job[13 + nf + j] as number;
    const c3 = (job[13 + j] as number) * N;
    const o4 = job[14 + nf + j] as number;
    const c4 = (job[14 + j] as number) * N;
    const o5 = job[15 + nf + j] as number;
    const c5 = (job[15 + j] as number) * N;
    const o6 = job[16 + nf + j] as number;
    const c6 = (job[16 + j] as number) * N;
    const o7 = job[17 + nf + j] as number;
    const c7 = (job[17 + j] as number) * N;
    const o8 = job[18 + nf + j] as number;
    const c8 = (job[18 + j] as number) * N;
    for (let k = begin; k < end; k++) {
      const r = part[k] as number;
      const x = direct ? 2 * r : 2 * k;
      const g = src[x] as number;
      const h = src[x + 1] as number;
      const i1 = o1 + (bins[c1 + r] as number) * 3;
      hist[i1] = (hist[i1] as number) + g;
      hist[i1 + 1] = (hist[i1 + 1] as number) + h;
      hist[i1 + 2] = (hist[i1 + 2] as number) + 1;
      const i2 = o2 + (bins[c2 + r] as number) * 3;
      hist[i2] = (hist[i2] as number) + g;
      hist[i2 + 1] = (hist[i2 + 1] as number) + h;
      hist[i2 + 2] = (hist[i2 + 2] as number) + 1;
      const i3 = o3 + (bins[c3 + r] as number) * 3;
      hist[i3] = (hist[i3] as number) + g;
      hist[i3 + 1] = (hist[i3 + 1] as number) + h;
      hist[i3 + 2] = (hist[i3 + 2] as number) + 1;
      const i4 = o4 + (bins[c4 + r] as number) * 3;
      hist[i4] = (hist[i4] as number) + g;
      hist[i4 + 1] = (hist[i4 + 1] as number) + h;
      hist[i4 + 2] = (hist[i4 + 2] as number) + 1;
      const i5 = o5 + (bins[c5 + r] as number) * 3;
      hist[i5] = (hist[i5] as number) + g;
      hist[i5 + 1] = (hist[i5 + 1] as number) + h;
      hist[i5 + 2] = (hist[i5 + 2] as number) + 1;
      const i6 = o6 + (bins[c6 + r] as number) * 3;
      hist[i6] = (hist[i6] as number) + g;
      hist[i6 + 1] = (hist[i6 + 1] as number) + h;
      hist[i6 + 2] = (hist[i6 + 2] as number) + 1;
      const i7 = o7 + (bins[c7 + r] as number) * 3;
      hist[i7] = (hist[i7] as number) + g;
      hist[i7 + 1] = (hist[i7 + 1] as number) + h;
      hist[i7 + 2] = (hist[i7 + 2] as number) + 1;
      const i8 = o8 + (bins[c8 + r] as number) * 3;
      hist[i8] = (hist[i8] as number) + g;
      hist[i8 + 1] = (hist[i8 + 1] as number) + h;
      hist[i8 + 2] = (hist[i8 + 2] as number) + 1;
    }
  }
  for (; j < nf; j += 4) {
    const left = nf - j;
    const f1 = job[11 + j] as number;
    const o1 = job[11 + nf + j] as number;
    const f2 = left > 1 ? (job[12 + j] as number) : f1;
    const o2 = left > 1 ? (job[12 + nf + j] as number) : -1;
    const f3 = left > 2 ? (job[13 + j] as number) : f1;
    const o3 = left > 2 ? (job[13 + nf + j] as number) : -1;
    const f4 = left > 3 ? (job[14 + j] as number) : f1;
    const o4 = left > 3 ? (job[14 + nf + j] as number) : -1;
    const c1 = f1 * N;
    const c2 = f2 * N;
    const c3 = f3 * N;
    const c4 = f4 * N;
    if (left >= 4) {
      for (let k = begin; k < end; k++) {
        const r = part[k] as number;
        const x = direct ? 2 * r : 2 * k;
        const g = src[x] as number;
        const h = src[x + 1] as number;
        const i1 = o1 + (bins[c1 + r] as number) * 3;
        hist[i1] = (hist[i1] as number) + g;
        hist[i1 + 1] = (hist[i1 + 1] as number) + h;
        hist[i1 + 2] = (hist[i1 + 2] as number) + 1;
        const i2 = o2 + (bins[c2 + r] as number) * 3;
        hist[i2] = (hist[i2] as number) + g;
        hist[i2 + 1] = (hist[i2 + 1] as number) + h;
        hist[i2 + 2] = (hist[i2 + 2] as number) + 1;
        const i3 = o3 + (bins[c3 + r] as number) * 3;
        hist[i3] = (hist[i3] as number) + g;
        hist[i3 + 1] = (hist[i3 + 1] as number) + h;
        hist[i3 + 2] = (hist[i3 + 2] as number) + 1;
        const i4 = o4 + (bins[c4 + r] as number) * 3;
        hist[i4] = (hist[i4] as number) + g;
        hist[i4 + 1] = (hist[i4 + 1] as number) + h;
        hist[i4 + 2] = (hist[i4 + 2] as number) + 1;
      }
    } else {
      for (let k = begin; k < end; k++) {
        const r = part[k] as number;
        const x = direct ? 2 * r : 2 * k;
        const g = src[x] as number;
        const h = src[x + 1] as number;
        const i1 = o1 + (bins[c1 + r] as number) * 3;
        hist[i1] = (hist[i1] as number) + g;
        hist[i1 + 1] = (hist[i1 + 1] as number) + h;
        hist[i1 + 2] = (hist[i1 + 2] as number) + 1;
        if (o2 < 0) continue;
        const i2 = o2 + (bins[c2 + r] as number) * 3;
        hist[i2] = (hist[i2] as number) + g;
        hist[i2 + 1] = (hist[i2 + 1] as number) + h;
        hist[i2 + 2] = (hist[i2 + 2] as number) + 1;
        if (o3 < 0) continue;
        const i3 = o3 + (bins[c3 + r] as number) * 3;
        hist[i3] = (hist[i3] as number) + g;
        hist[i3 + 1] = (hist[i3 + 1] as number) + h;
        hist[i3 + 2] = (hist[i3 + 2] as number) + 1;
      }
    }
  }
}

/** BeginTree: gradients of the shard's rows, the bag (A0 = 1: from `inBag`), leaf 0 and its histogram and sums. */
export function shardBeginTree(s: Shard): void {
  const { labels, score, gh, job, jobFloat } = s;
  const sig = jobFloat[0] as number;
  const scale = jobFloat[1] as number;
  const inv = jobFloat[2] as number;
  for (let r = s.lo; r < s.hi; r++) {
    // LightGBM's binary objective with labels in {-1, +1}, rounded to the gradient unit.
    const y = (labels[r] as number) > 0 ? 1 : -1;
    const response = (-y * sig) / (1 + Math.exp(y * sig * (score[r] as number)));
    const abs = Math.abs(response);
    // Adding and subtracting 1.5 * 2^52 rounds to an integer number of units (Math.round is slower).
    gh[2 * r] = (response * scale + 6755399441055744 - 6755399441055744) * inv;
    gh[2 * r + 1] = (abs * (sig - abs) * scale + 6755399441055744 - 6755399441055744) * inv;
  }
  const { counts, inBag, part } = s;
  let nb = counts[0] as number;
  if (job[4] === 2) {
    // A new bag: LightGBM's generator from state A1 draws one value per row, so this shard
    // starts `lo` draws in. Bagged rows in row order, the others apart.
    const oob = s.oob;
    const below = (jobFloat[3] as number) * 32768;
    let x = lcgSkip(job[5] as number, s.lo) | 0;
    nb = 0;
    let no = 0;
    for (let r = s.lo; r < s.hi; r++) {
      x = (Math.imul(214013, x) + 2531011) | 0;
      const keep = ((x >>> 16) & 0x7fff) < below ? 1 : 0;
      inBag[r] = keep;
      part[nb] = r;
      oob[no] = r;
      nb += keep;
      no += keep ^ 1;
    }
    counts[0] = nb;
    counts[1] = no;
  } else if (job[4] === 1) {
    // The bag mask was changed by the trainer.
    const oob = s.oob;
    nb = 0;
    let no = 0;
    for (let r = s.lo; r < s.hi; r++) {
      if (inBag[r] === 1) part[nb++] = r;
      else oob[no++] = r;
    }
    counts[0] = nb;
    counts[1] = no;
  } else if (nb === s.hi - s.lo) {
    for (let k = 0; k < nb; k++) part[k] = s.lo + k;
  } else {
    let n = 0;
    for (let r = s.lo; r < s.hi; r++) if (inBag[r] === 1) part[n++] = r;
  }
  s.leafBegin[0] = 0;
  s.leafCount[0] = nb;
  let sg = 0;
  let sh = 0;
  for (let k = 0; k < nb; k++) {
    const r = part[k] as number;
    sg += gh[2 * r] as number;
    sh += gh[2 * r + 1] as number;
  }
  s.sums[0] = sg;
  s.sums[1] = sh;
  s.sums[2] = nb;
  if ((job[10] as number) > 0) shardHistogram(s, 0, nb);
}

/** Split: stable partition of leaf A0's rows (left stay, right follow as leaf A1), then A5's histogram. */
export function shardSplit(s: Shard): void {
  const job = s.job;
  const leaf = job[4] as number;
  const right = job[5] as number;
  const f = job[6] as number;
  const thr = job[7] as number;
  const defaultLeft = job[8] === 1;
  const build = job[9] as number;
  const nanBin = s.nanBin[f] as number;
  const { bins, part, scratch } = s;
  const col = f * s.numRows;
  const begin = s.leafBegin[leaf] as number;
  const end = begin + (s.leafCount[leaf] as number);
  // Branch-free: a row goes left when its bin is at most the threshold bin, or when it is the NaN
  // bin (always above every threshold) and missing values default left. Each row is written to
  // both sides and only one side's count moves (the left write never passes the read position).
  const nanMark = nanBin >= 0 ? nanBin : 0x10000;
  const dl = defaultLeft ? 1 : 0;
  let nl = 0;
  let nr = 0;
  for (let k = begin; k < end; k++) {
    const r = part[k] as number;
    const b = bins[col + r] as number;
    const isNan = ((b ^ nanMark) - 1) >>> 31;
    const goLeft = (1 ^ ((thr - b) >>> 31)) | (isNan & dl);
    part[begin + nl] = r;
    scratch[nr] = r;
    nl += goLeft;
    nr += goLeft ^ 1;
  }
  for (let k = 0; k < nr; k++) part[begin + nl + k] = scratch[k] as number;
  s.leafCount[leaf] = nl;
  s.leafBegin[right] = begin + nl;
  s.leafCount[right] = nr;
  if (build >= 0) {
    const b0 = s.leafBegin[build] as number;
    shardHistogram(s, b0, b0 + (s.leafCount[build] as number));
  }
}

/** EndTree: adds each leaf's value to its rows' scores; out-of-bag rows find their leaf through the tree. */
export function shardEndTree(s: Shard): void {
  const { job, jobFloat, part, score } = s;
  const numLeaves = job[4] as number;
  for (let l = 0; l < numLeaves; l++) {
    const v = jobFloat[10 + l] as number;
    const begin = s.leafBegin[l] as number;
    const end = begin + (s.leafCount[l] as number);
    for (let k = begin; k < end; k++) {
      const r = part[k] as number;
      score[r] = (score[r] as number) + v;
    }
  }
  const no = s.counts[1] as number;
  if (no === 0) return;
  const { bins, oob, tree, nanBin } = s;
  const N = s.numRows;
  for (let k = 0; k < no; k++) {
    const r = oob[k] as number;
    let node = numLeaves > 1 ? 0 : -1;
    while (node >= 0) {
      const t = node * 5;
      const f = tree[t] as number;
      const b = bins[f * N + r] as number;
      const goLeft = b === (nanBin[f] as number) ? tree[t + 2] === 1 : b <= (tree[t + 1] as number);
      node = goLeft ? (tree[t + 3] as number) : (tree[t + 4] as number);
    }
    score[r] = (score[r] as number) + (jobFloat[10 + ~node] as number);
  }
}

/**
 * The best split of one leaf's histogram (at `base` in `hists`) over this shard's features of the
 * job's list, written to `best` at `out` (gain 0 and feature -1 when none qualifies). Gains,
 * constraints and tie-breaking (the first maximum in list order wins) are the trainer's.
 */
export function shardBestSplit(s: Shard, base: number, sumG: number, sumH: number, count: number, out: number): void {
  const { job, hists, best, splitConfig: cfg } = s;
  const nf = job[10] as number;
  const minData = cfg[0] as number;
  const minHess = cfg[1] as number;
  const l1 = cfg[2] as number;
  const l2 = cfg[3] as number;
  // LightGBM's leaf gain: ThresholdL1(g)^2 / (h + lambda_l2).
  const pr = Math.max(Math.abs(sumG) - l1, 0);
  const parentGain = (pr * pr) / (sumH + l2) + (cfg[4] as number);
  let bestGain = 0;
  let bestFeature = -1;
  let bestBin = 0;
  let bestDefaultLeft = 0;
  let bestG = 0;
  let bestH = 0;
  let bestC = 0;
  let bestJ = -1;
  for (let j = s.index; j < nf; j += s.threads) {
    const f = job[11 + j] as number;
    const off = base + (job[11 + nf + j] as number);
    const valueBins = s.numValueBins[f] as number;
    const nanBin = s.nanBin[f] as number;
    let nanG = 0;
    let nanH = 0;
    let nanC = 0;
    if (nanBin >= 0) {
      const idx = off + nanBin * 3;
      nanG = hists[idx] as number;
      nanH = hists[idx + 1] as number;
      nanC = hists[idx + 2] as number;
    }
    let accG = 0;
    let accH = 0;
    let accC = 0;
    const lastBin = nanC > 0 ? valueBins - 1 : valueBins - 2;
    for (let t = 0; t <= lastBin; t++) {
      const idx = off + t * 3;
      accG += hists[idx] as number;
      accH += hists[idx + 1] as number;
      const binCount = hists[idx + 2] as number;
      accC += binCount;
      // An empty bin repeats the previous candidates (equal gains never replace the first);
      // once too few rows remain on the right, no later threshold can qualify.
      if (binCount === 0 && t > 0) continue;
      if (count - accC < minData) break;
      if (accC < minData && accC + nanC < minData) continue;
      // Missing values to the right (default) ...
      if (accC >= minData && count - accC >= minData) {
        const rh = sumH - accH;
        if (accH >= minHess && rh >= minHess) {
          const a = Math.max(Math.abs(accG) - l1, 0);
          const b = Math.max(Math.abs(sumG - accG) - l1, 0);
          const gain = (a * a) / (accH + l2) + (b * b) / (rh + l2) - parentGain;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = t;
            bestDefaultLeft = 0;
            bestG = accG;
            bestH = accH;
            bestC = accC;
            bestJ = j;
          }
        }
      }
      // ... or to the left, when this leaf has missing values and something stays right.
      if (nanC > 0 && t < valueBins - 1) {
        const lc = accC + nanC;
        if (lc >= minData && count - lc >= minData) {
          const lg = accG + nanG;
          const lh = accH + nanH;
          const rh = sumH - lh;
          if (lh >= minHess && rh >= minHess) {
            const a = Math.max(Math.abs(lg) - l1, 0);
            const b = Math.max(Math.abs(sumG - lg) - l1, 0);
            const gain = (a * a) / (lh + l2) + (b * b) / (rh + l2) - parentGain;
            if (gain > bestGain) {
              bestGain = gain;
              bestFeature = f;
              bestBin = t;
              bestDefaultLeft = 1;
              bestG = lg;
              bestH = lh;
              bestC = lc;
              bestJ = j;
            }
          }
        }
      }
    }
  }
  best[out] = bestGain;
  best[out + 1] = bestFeature;
  best[out + 2] = bestBin;
  best[out + 3] = bestDefaultLeft;
  best[out + 4] = bestG;
  best[out + 5] = bestH;
  best[out + 6] = bestC;
  best[out + 7] = bestJ;
}

/** Scan: see `Command.Scan`. */
export function shardScan(s: Shard): void {
  const { job, jobFloat, hists } = s;
  const nf = job[10] as number;
  const stride = s.stride;
  const small = (job[4] as number) * stride;
  const parent = job[5] as number;
  const large = parent * stride;
  for (let j = s.index; j < nf; j += s.threads) {
    const o = job[11 + nf + j] as number;
    const e = job[11 + 2 * nf + j] as number;
    // With a parent, the last worker's partial is added in the subtraction's pass over the bins.
    const fuse = parent >= 0 && s.threads > 1;
    const added = fuse ? s.threads - 1 : s.threads;
    for (let w = 1; w < added; w++) {
      const p = (s.leafSlots + w - 1) * stride;
      for (let idx = o; idx < e; idx++)
        hists[small + idx] = (hists[small + idx] as number) + (hists[p + idx] as number);
    }
    if (fuse) {
      const p = (s.leafSlots + added - 1) * stride;
      for (let idx = o; idx < e; idx++) {
        const v = (hists[small + idx] as number) + (hists[p + idx] as number);
        hists[small + idx] = v;
        hists[large + idx] = (hists[large + idx] as number) - v;
      }
    } else if (parent >= 0) {
      for (let idx = o; idx < e; idx++)
        hists[large + idx] = (hists[large + idx] as number) - (hists[small + idx] as number);
    }
  }
  const out = s.index * 16;
  s.best[out] = 0;
  s.best[out + 1] = -1;
  s.best[out + 8] = 0;
  s.best[out + 9] = -1;
  if (job[6] === 1) shardBestSplit(s, small, jobFloat[4] as number, jobFloat[5] as number, jobFloat[6] as number, out);
  if (job[7] === 1) {
    shardBestSplit(s, large, jobFloat[7] as number, jobFloat[8] as number, jobFloat[9] as number, out + 8);
  }
}

/** Bin: see `Command.Bin`. */
export function shardBin(s: Shard): void {
  const { values, sampleRows, bins, binBounds, binMeta } = s;
  const N = s.numRows;
  const F = s.numFeatures;
  const cap = s.maxBin + 1;
  const sampled = sampleRows.length > 0;
  const size = sampled ? sampleRows.length : N;
  const column = new Float64Array(size);
  // When the sample is every row, the sort tells each row's bin (no search per row).
  const order = sampled ? undefined : new Int32Array(size);
  for (;;) {
    // Features are taken, not dealt: a worker still starting up leaves its share to the others.
    const f = Atomics.add(s.job, 4, 1);
    if (f >= F) break;
    for (let i = 0; i < size; i++) column[i] = values[(sampled ? (sampleRows[i] as number) : i) * F + f] as number;
    const sorted = sortedSample(column, order);
    const mapper = binMapperFromSorted(sorted, size, s.maxBin, s.minDataInBin);
    const nb = mapper.upperBounds.length;
    for (let t = 0; t < nb; t++) binBounds[f * cap + t] = mapper.upperBounds[t] as number;
    binMeta[4 * f] = nb;
    binMeta[4 * f + 1] = mapper.nanBin >= 0 ? 1 : 0;
    binMeta[4 * f + 2] = mapper.min;
    binMeta[4 * f + 3] = mapper.max;
    s.nanBin[f] = mapper.nanBin;
    s.numValueBins[f] = nb;
    if (order) {
      const bounds = mapper.upperBounds;
      let b = 0;
      for (let i = 0; i < sorted.length; i++) {
        const v = sorted[i] as number;
        while (v > (bounds[b] as number)) b++;
        bins[f * N + (order[i] as number)] = b;
      }
      if (sorted.length < N) {
        const nanBin = mapper.nanBin >= 0 ? mapper.nanBin : valueToBin(mapper, NaN);
        for (let r = 0; r < N; r++) if (column[r] !== column[r]) bins[f * N + r] = nanBin;
      }
    } else {
      for (let r = 0; r < N; r++) bins[f * N + r] = valueToBin(mapper, values[r * F + f] as number);
    }
  }
}

/** Runs the job in the control block on one shard. */
export function shardRun(s: Shard): void {
  const command = s.job[3];
  if (command === 1) shardBeginTree(s);
  else if (command === 2) shardSplit(s);
  else if (command === 3) shardEndTree(s);
  else if (command === 5) shardScan(s);
  else if (command === 6) shardBin(s);
}
