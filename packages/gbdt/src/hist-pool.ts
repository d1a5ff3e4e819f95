/**
 * Histogram construction on worker threads. The features of one histogram are dealt round-robin
 * to the main thread and the workers; each feature's bins are summed by exactly one thread in
 * row order, so the result is bit-identical for any thread count. Everything the threads touch
 * (bins, gradients, the row partition, the histogram slots) lives in SharedArrayBuffers; a job is
 * posted through an Int32Array with Atomics (no messages, no copies).
 */
import { Worker } from 'node:worker_threads';

/** Control words: job sequence, command, begin, count, (unused), feature count, identity, done count, features… */
const SEQ = 0;
const CMD = 1;
const BEGIN = 2;
const COUNT = 3;
const NFEAT = 5;
const IDENTITY = 6;
const DONE = 7;
const FEATURES = 8;

/** The shared arrays of a trainer. */
export interface SharedTrainingArrays {
  readonly bins: Uint8Array | Uint16Array;
  readonly grad: Float64Array;
  readonly hess: Float64Array;
  readonly orderedGrad: Float64Array;
  readonly orderedHess: Float64Array;
  readonly partition: Int32Array;
  /** One histogram (the shared scratch the threads sum into); the trainer copies it out. */
  readonly hist: Float64Array;
  readonly offsets: Int32Array;
  readonly numRows: number;
}

/**
 * Sums one feature's bins of the rows `[begin, begin + count)` of the partition into `hist`
 * (the same loop runs in the workers, see WORKER_SOURCE).
 */
export function accumulateFeature(
  a: SharedTrainingArrays,
  hist: Float64Array,
  f: number,
  begin: number,
  count: number,
  identity: boolean,
): void {
  const { bins, partition } = a;
  const N = a.numRows;
  const colBase = f * N;
  const start = (a.offsets[f] as number) * 3;
  const end = (a.offsets[f + 1] as number) * 3;
  hist.fill(0, start, end);
  if (identity) {
    const { grad, hess } = a;
    for (let k = 0; k < count; k++) {
      const idx = start + (bins[colBase + k] as number) * 3;
      hist[idx] = (hist[idx] as number) + (grad[k] as number);
      hist[idx + 1] = (hist[idx + 1] as number) + (hess[k] as number);
      hist[idx + 2] = (hist[idx + 2] as number) + 1;
    }
  } else {
    const { orderedGrad: og, orderedHess: oh } = a;
    for (let k = 0; k < count; k++) {
      const idx = start + (bins[colBase + (partition[begin + k] as number)] as number) * 3;
      hist[idx] = (hist[idx] as number) + (og[k] as number);
      hist[idx + 1] = (hist[idx + 1] as number) + (oh[k] as number);
      hist[idx + 2] = (hist[idx + 2] as number) + 1;
    }
  }
}

/**
 * {@link accumulateFeature} for two features in one pass over the rows (the row index and the
 * gradients are read once for both). Each bin still sums its rows in row order, so the result is
 * the same as two single passes.
 */
export function accumulateFeaturePair(
  a: SharedTrainingArrays,
  hist: Float64Array,
  f1: number,
  f2: number,
  begin: number,
  count: number,
  identity: boolean,
): void {
  const { bins, partition } = a;
  const N = a.numRows;
  const col1 = f1 * N;
  const col2 = f2 * N;
  const s1 = (a.offsets[f1] as number) * 3;
  const s2 = (a.offsets[f2] as number) * 3;
  hist.fill(0, s1, (a.offsets[f1 + 1] as number) * 3);
  hist.fill(0, s2, (a.offsets[f2 + 1] as number) * 3);
  const og = identity ? a.grad : a.orderedGrad;
  const oh = identity ? a.hess : a.orderedHess;
  for (let k = 0; k < count; k++) {
    const r = identity ? k : (partition[begin + k] as number);
    const g = og[k] as number;
    const h = oh[k] as number;
    const i1 = s1 + (bins[col1 + r] as number) * 3;
    hist[i1] = (hist[i1] as number) + g;
    hist[i1 + 1] = (hist[i1 + 1] as number) + h;
    hist[i1 + 2] = (hist[i1 + 2] as number) + 1;
    const i2 = s2 + (bins[col2 + r] as number) * 3;
    hist[i2] = (hist[i2] as number) + g;
    hist[i2 + 1] = (hist[i2 + 1] as number) + h;
    hist[i2 + 2] = (hist[i2 + 2] as number) + 1;
  }
}

/** {@link accumulateFeaturePair} for four features. */
export function accumulateFeatureQuad(
  a: SharedTrainingArrays,
  hist: Float64Array,
  f: Int32Array,
  j: number,
  begin: number,
  count: number,
  identity: boolean,
): void {
  const { bins, partition, offsets } = a;
  const N = a.numRows;
  const f1 = f[j] as number;
  const f2 = f[j + 1] as number;
  const f3 = f[j + 2] as number;
  const f4 = f[j + 3] as number;
  const c1 = f1 * N;
  const c2 = f2 * N;
  const c3 = f3 * N;
  const c4 = f4 * N;
  const s1 = (offsets[f1] as number) * 3;
  const s2 = (offsets[f2] as number) * 3;
  const s3 = (offsets[f3] as number) * 3;
  const s4 = (offsets[f4] as number) * 3;
  for (const ff of [f1, f2, f3, f4]) hist.fill(0, (offsets[ff] as number) * 3, (offsets[ff + 1] as number) * 3);
  const og = identity ? a.grad : a.orderedGrad;
  const oh = identity ? a.hess : a.orderedHess;
  for (let k = 0; k < count; k++) {
    const r = identity ? k : (partition[begin + k] as number);
    const g = og[k] as number;
    const h = oh[k] as number;
    const i1 = s1 + (bins[c1 + r] as number) * 3;
    hist[i1] = (hist[i1] as number) + g;
    hist[i1 + 1] = (hist[i1 + 1] as number) + h;
    hist[i1 + 2] = (hist[i1 + 2] as number) + 1;
    const i2 = s2 + (bins[c2 + r] as number) * 3;
    hist[i2] = (hist[i2] as number) + g;
    hist[i2 + 1] = (hist[i2 + 1] as number) + h;
    hist[i2 + 2] = (hist[i2 + 2] as number) + 1;
    const i3 = s3 + (bins[c3 + r] as number) * 3;
    hist[i3] = (hist[i3] as number) + g;
    hist[i3 + 1] = (hist[i3 + 1] as number) + h;
    hist[i3 + 2] = (hist[i3 + 2] as number) + 1;
    const i4 = s4 + (bins[c4 + r] as number) * 3;
    hist[i4] = (hist[i4] as number) + g;
    hist[i4 + 1] = (hist[i4 + 1] as number) + h;
    hist[i4 + 2] = (hist[i4 + 2] as number) + 1;
  }
}

// The worker: the same loop as accumulateFeature, as plain JavaScript (evaluated, so it needs no
// loader and works from sources and from dist alike).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const w = workerData;
const ctrl = new Int32Array(w.ctrl);
const bins = w.binsBytes === 1 ? new Uint8Array(w.bins) : new Uint16Array(w.bins);
const grad = new Float64Array(w.grad), hess = new Float64Array(w.hess);
const og = new Float64Array(w.orderedGrad), oh = new Float64Array(w.orderedHess);
const partition = new Int32Array(w.partition), hist = new Float64Array(w.hist);
const offsets = Int32Array.from(w.offsets);
const N = w.numRows, index = w.index, threads = w.threads;
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  if (ctrl[${CMD}] === 1) break;
  const begin = ctrl[${BEGIN}], count = ctrl[${COUNT}], nf = ctrl[${NFEAT}], identity = ctrl[${IDENTITY}] === 1;
  const mine = [];
  for (let j = index; j < nf; j += threads) mine.push(ctrl[${FEATURES} + j]);
  for (const f of mine) hist.fill(0, offsets[f] * 3, offsets[f + 1] * 3);
  let m = 0;
  // Two features per pass over the rows (each bin still sums its rows in row order).
  for (; m < mine.length; m += 2) {
    const f1 = mine[m], f2 = m + 1 < mine.length ? mine[m + 1] : -1;
    const c1 = f1 * N, s1 = offsets[f1] * 3;
    if (f2 < 0) {
      for (let k = 0; k < count; k++) {
        const r = identity ? k : partition[begin + k];
        const i1 = s1 + bins[c1 + r] * 3;
        hist[i1] += identity ? grad[k] : og[k]; hist[i1 + 1] += identity ? hess[k] : oh[k]; hist[i1 + 2] += 1;
      }
      continue;
    }
    const c2 = f2 * N, s2 = offsets[f2] * 3;
    const g = identity ? grad : og, h = identity ? hess : oh;
    for (let k = 0; k < count; k++) {
      const r = identity ? k : partition[begin + k];
      const gk = g[k], hk = h[k];
      const i1 = s1 + bins[c1 + r] * 3;
      hist[i1] += gk; hist[i1 + 1] += hk; hist[i1 + 2] += 1;
      const i2 = s2 + bins[c2 + r] * 3;
      hist[i2] += gk; hist[i2 + 1] += hk; hist[i2 + 2] += 1;
    }
  }
  Atomics.add(ctrl, ${DONE}, 1);
  Atomics.notify(ctrl, ${DONE});
}
`;

/** A pool of histogram workers for one trainer; {@link HistPool.close} ends them. */
export class HistPool {
  readonly threads: number;
  readonly #arrays: SharedTrainingArrays;
  readonly #ctrl: Int32Array;
  readonly #workers: Worker[] = [];
  #closed = false;

  /** Starts `threads - 1` workers over the shared arrays (all must be SharedArrayBuffer-backed). */
  constructor(arrays: SharedTrainingArrays, threads: number, maxFeatures: number) {
    this.threads = threads;
    this.#arrays = arrays;
    this.#ctrl = new Int32Array(new SharedArrayBuffer((FEATURES + maxFeatures) * 4));
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          ctrl: this.#ctrl.buffer,
          bins: arrays.bins.buffer,
          binsBytes: arrays.bins.BYTES_PER_ELEMENT,
          grad: arrays.grad.buffer,
          hess: arrays.hess.buffer,
          orderedGrad: arrays.orderedGrad.buffer,
          orderedHess: arrays.orderedHess.buffer,
          partition: arrays.partition.buffer,
          hist: arrays.hist.buffer,
          offsets: Array.from(arrays.offsets),
          numRows: arrays.numRows,
          index: i,
          threads,
        },
      });
      worker.unref();
      this.#workers.push(worker);
    }
  }

  /** Builds one histogram into the shared scratch with all threads; returns when every feature is summed. */
  build(features: Int32Array, begin: number, count: number, identity: boolean): void {
    const ctrl = this.#ctrl;
    ctrl[BEGIN] = begin;
    ctrl[COUNT] = count;
    ctrl[NFEAT] = features.length;
    ctrl[IDENTITY] = identity ? 1 : 0;
    ctrl.set(features, FEATURES);
    Atomics.store(ctrl, DONE, 0);
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
    const mine: number[] = [];
    for (let j = 0; j < features.length; j += this.threads) mine.push(features[j] as number);
    let m = 0;
    for (; m + 1 < mine.length; m += 2) {
      accumulateFeaturePair(
        this.#arrays,
        this.#arrays.hist,
        mine[m] as number,
        mine[m + 1] as number,
        begin,
        count,
        identity,
      );
    }
    if (m < mine.length) accumulateFeature(this.#arrays, this.#arrays.hist, mine[m] as number, begin, count, identity);
    const others = this.threads - 1;
    for (;;) {
      const done = Atomics.load(ctrl, DONE);
      if (done >= others) break;
      Atomics.wait(ctrl, DONE, done, 1000);
    }
  }

  /** Stops the workers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctrl[CMD] = 1;
    Atomics.add(this.#ctrl, SEQ, 1);
    Atomics.notify(this.#ctrl, SEQ);
    for (const worker of this.#workers) void worker.terminate();
  }
}
