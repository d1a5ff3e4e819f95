/**
 * The trainer's threads: the training rows are cut into one contiguous shard per thread, the
 * trainer's own thread runs shard 0 and each worker thread one other (see `shard-kernels.ts`).
 * A job is posted through a shared control block with Atomics (no messages, no copies): the
 * trainer writes the job, bumps the sequence word, does its own shard, and waits until every
 * worker has written the job's sequence number to its own done word. Workers spin briefly
 * before they sleep, since jobs come every few tens of microseconds while a tree grows.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import { binMapperFromSorted, sortedSample, valueToBin } from './binning.js';
import { MissingType } from './model.js';
import { lcgSkip } from './random.js';
import {
  Command,
  Job,
  JobFloat,
  shardBeginTree,
  shardBestSplit,
  shardBin,
  shardEndTree,
  shardHistogram,
  shardRun,
  shardScan,
  shardSplit,
  type Shard,
} from './shard-kernels.js';

/** The row-indexed arrays every shard reads (SharedArrayBuffer-backed when there are workers). */
export type TeamArrays = Pick<
  Shard,
  | 'numRows'
  | 'numFeatures'
  | 'bins'
  | 'labels'
  | 'score'
  | 'gh'
  | 'inBag'
  | 'nanBin'
  | 'numValueBins'
  | 'values'
  | 'sampleRows'
  | 'maxBin'
  | 'minDataInBin'
  | 'binBounds'
  | 'binMeta'
  | 'splitConfig'
> & { readonly maxLeaves: number };

/**
 * Busy-wait polls before a thread sleeps on the control block (none when there are more threads
 * than cores: a spinning thread would then hold a core another one needs).
 */
const SPIN_POLLS = 20_000;

// The worker: the shard kernels themselves (their compiled source) and a job loop.
const WORKER_SOURCE = `
const { workerData: w, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const MissingType = ${JSON.stringify(MissingType)};
${sortedSample.toString()}
${binMapperFromSorted.toString()}
${valueToBin.toString()}
${shardBin.toString()}
${lcgSkip.toString()}
${shardHistogram.toString()}
${shardBeginTree.toString()}
${shardSplit.toString()}
${shardEndTree.toString()}
${shardBestSplit.toString()}
${shardScan.toString()}
${shardRun.toString()}
const job = new Int32Array(w.job);
const doneSeq = new Int32Array(w.doneSeq);
try {
  const size = w.hi - w.lo;
  const s = {
    index: w.index, threads: w.threads, hists: new Float64Array(0), stride: 0, leafSlots: w.leafSlots,
    numValueBins: new Int32Array(w.numValueBins), splitConfig: Float64Array.from(w.splitConfig),
    numFeatures: w.numFeatures, values: new Float64Array(w.values), sampleRows: new Int32Array(w.sampleRows),
    maxBin: w.maxBin, minDataInBin: w.minDataInBin,
    binBounds: new Float64Array(w.binBounds), binMeta: new Float64Array(w.binMeta),
    best: new Float64Array(w.best),
    lo: w.lo, hi: w.hi, numRows: w.numRows,
    bins: w.binsBytes === 1 ? new Uint8Array(w.bins) : new Uint16Array(w.bins),
    labels: new Float64Array(w.labels), score: new Float64Array(w.score), gh: new Float64Array(w.gh),
    inBag: new Uint8Array(w.inBag), nanBin: new Int32Array(w.nanBin),
    part: new Int32Array(size), scratch: new Int32Array(size), og: new Float64Array(2 * size), oob: new Int32Array(size),
    leafBegin: new Int32Array(w.maxLeaves), leafCount: new Int32Array(w.maxLeaves), counts: Int32Array.of(size, 0),
    hist: new Float64Array(0), sums: new Float64Array(w.sums, w.index * 24, 3),
    job, jobFloat: new Float64Array(w.jobFloat), tree: new Int32Array(w.tree),
  };
  let seen = 0;
  for (;;) {
    let now = Atomics.load(job, ${Job.Seq});
    for (let i = 0; i < w.spinPolls && now === seen; i++) now = Atomics.load(job, ${Job.Seq});
    if (now === seen) {
      // Sleep until the sequence moves; a wake-up without a new job (Atomics.wait may return
      // early) goes round again rather than rerunning the last job.
      Atomics.wait(job, ${Job.Seq}, seen);
      continue;
    }
    seen = now;
    if (job[${Job.Command}] === ${Command.Stop}) break;
    if (job[${Job.Command}] === ${Command.Setup}) {
      const { message } = receiveMessageOnPort(parentPort);
      s.hists = new Float64Array(message.hists);
      s.stride = message.stride;
      // The training values are no longer needed (and workerData must not keep them alive).
      s.values = new Float64Array(0);
      s.sampleRows = new Int32Array(0);
      w.values = null;
      w.sampleRows = null;
      s.hist = s.hists.subarray((s.leafSlots + s.index - 1) * s.stride, (s.leafSlots + s.index) * s.stride);
    } else {
      shardRun(s);
    }
    Atomics.store(doneSeq, w.index, seen);
    Atomics.add(job, ${Job.Done}, 1);
    Atomics.notify(job, ${Job.Done});
  }
} catch (err) {
  Atomics.store(job, ${Job.Failed}, 1);
  Atomics.add(job, ${Job.Done}, 1);
  Atomics.notify(job, ${Job.Done});
  throw err;
}
`;

/** Shard 0 (the trainer's thread) plus `threads - 1` workers; {@link WorkerTeam.close} ends them. */
export class WorkerTeam {
  readonly threads: number;
  /** The control block: see `Job` in shard-kernels.ts. */
  readonly job: Int32Array;
  readonly jobFloat: Float64Array;
  /** The tree block: per node feature, threshold bin, default left, left child, right child. */
  readonly tree: Int32Array;
  /** Each shard's [sum of gradients, hessians, rows] of leaf 0 after BeginTree. */
  readonly sums: Float64Array;
  /** Scan results (see `Shard.best`). */
  readonly best: Float64Array;
  /** Histogram slots for leaves (slot i: `slot(i)`); the workers' partial histograms follow them. */
  readonly leafSlots: number;
  #hists: Float64Array = new Float64Array(0);
  /** Per worker: the sequence number of the last job it finished. */
  readonly #doneSeq: Int32Array;
  #slots: Float64Array[] = [];
  readonly #main: Shard;
  readonly #workers: Worker[] = [];
  #closed = false;
  readonly #exits: Array<Promise<void>> = [];
  #exited = 0;
  readonly #spinPolls: number;

  constructor(arrays: TeamArrays, threads: number) {
    const n = arrays.numRows;
    const t = Math.max(1, Math.min(threads, n));
    this.threads = t;
    this.#spinPolls = t <= availableParallelism() ? SPIN_POLLS : 0;
    const shared = (bytes: number): ArrayBuffer | SharedArrayBuffer =>
      t > 1 ? new SharedArrayBuffer(Math.max(8, bytes)) : new ArrayBuffer(Math.max(8, bytes));
    this.job = new Int32Array(shared((Job.Features + 3 * arrays.numFeatures + 1) * 4));
    this.jobFloat = new Float64Array(shared((JobFloat.LeafValues + arrays.maxLeaves) * 8));
    this.tree = new Int32Array(shared(5 * arrays.maxLeaves * 4));
    this.sums = new Float64Array(shared(3 * t * 8));
    this.#doneSeq = new Int32Array(shared(t * 4));
    this.best = new Float64Array(shared(16 * t * 8));
    this.leafSlots = arrays.maxLeaves + 1;
    const bounds = (i: number): number => Math.floor((i * n) / t);
    const size = bounds(1);
    this.#main = {
      index: 0,
      threads: t,
      hists: this.#hists,
      stride: 0,
      leafSlots: this.leafSlots,
      numValueBins: arrays.numValueBins,
      splitConfig: arrays.splitConfig,
      best: this.best,
      numFeatures: arrays.numFeatures,
      values: arrays.values,
      sampleRows: arrays.sampleRows,
      maxBin: arrays.maxBin,
      minDataInBin: arrays.minDataInBin,
      binBounds: arrays.binBounds,
      binMeta: arrays.binMeta,
      lo: 0,
      hi: size,
      numRows: n,
      bins: arrays.bins,
      labels: arrays.labels,
      score: arrays.score,
      gh: arrays.gh,
      inBag: arrays.inBag,
      nanBin: arrays.nanBin,
      part: new Int32Array(size),
      scratch: new Int32Array(size),
      og: new Float64Array(2 * size),
      oob: new Int32Array(size),
      leafBegin: new Int32Array(arrays.maxLeaves),
      leafCount: new Int32Array(arrays.maxLeaves),
      counts: Int32Array.of(size, 0),
      hist: new Float64Array(0),
      sums: this.sums.subarray(0, 3),
      job: this.job,
      jobFloat: this.jobFloat,
      tree: this.tree,
    };
    try {
      this.#startWorkers(arrays, t, bounds);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  #startWorkers(arrays: TeamArrays, t: number, bounds: (i: number) => number): void {
    const n = arrays.numRows;
    for (let i = 1; i < t; i++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          index: i,
          spinPolls: this.#spinPolls,
          threads: t,
          leafSlots: this.leafSlots,
          numValueBins: arrays.numValueBins.buffer,
          numFeatures: arrays.numFeatures,
          values: arrays.values.buffer,
          sampleRows: arrays.sampleRows.buffer,
          maxBin: arrays.maxBin,
          minDataInBin: arrays.minDataInBin,
          binBounds: arrays.binBounds.buffer,
          binMeta: arrays.binMeta.buffer,
          splitConfig: Array.from(arrays.splitConfig),
          best: this.best.buffer,
          lo: bounds(i),
          hi: bounds(i + 1),
          numRows: n,
          maxLeaves: arrays.maxLeaves,
          bins: arrays.bins.buffer,
          binsBytes: arrays.bins.BYTES_PER_ELEMENT,
          labels: arrays.labels.buffer,
          score: arrays.score.buffer,
          gh: arrays.gh.buffer,
          inBag: arrays.inBag.buffer,
          nanBin: arrays.nanBin.buffer,
          sums: this.sums.buffer,
          job: this.job.buffer,
          doneSeq: this.#doneSeq.buffer,
          jobFloat: this.jobFloat.buffer,
          tree: this.tree.buffer,
        },
      });
      worker.unref();
      this.#workers.push(worker);
      this.#exits.push(
        new Promise((resolve) =>
          worker.once('exit', () => {
            this.#exited++;
            resolve();
          }),
        ),
      );
    }
  }

  /** Worker threads that have not exited yet. */
  get liveWorkers(): number {
    return this.#workers.length - this.#exited;
  }

  /** Resolves once every worker thread has exited (after {@link WorkerTeam.close}). */
  async exited(): Promise<void> {
    await Promise.all(this.#exits);
  }

  /**
   * Allocates the histograms (once the bins are known: `totalBins` bins of all features) and
   * hands them to the workers.
   */
  setHistograms(totalBins: number): void {
    const stride = totalBins * 3;
    const t = this.threads;
    const bytes = Math.max(8, (this.leafSlots + t - 1) * stride * 8);
    this.#hists = new Float64Array(t > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.#slots = [];
    for (let i = 0; i < this.leafSlots; i++) this.#slots.push(this.#hists.subarray(i * stride, (i + 1) * stride));
    this.#main.hists = this.#hists;
    this.#main.stride = stride;
    this.#main.values = new Float64Array(0);
    this.#main.sampleRows = new Int32Array(0);
    if (t === 1) return;
    for (const worker of this.#workers) worker.postMessage({ hists: this.#hists.buffer, stride });
    this.job[Job.Command] = Command.Setup;
    this.run();
  }

  /** The histogram of leaf slot `i`. */
  slot(i: number): Float64Array {
    return this.#slots[i] as Float64Array;
  }

  /** Runs the job written in {@link WorkerTeam.job} on every shard; shard 0 sums into `hist`. */
  run(hist?: Float64Array): void {
    if (this.#closed) throw new Error('the worker team is closed');
    const job = this.job;
    const others = this.threads - 1;
    let seq = 0;
    if (others > 0) {
      Atomics.store(job, Job.Done, 0);
      seq = (Atomics.add(job, Job.Seq, 1) + 1) | 0;
      Atomics.notify(job, Job.Seq);
    }
    if (hist) this.#main.hist = hist;
    shardRun(this.#main);
    if (others === 0) return;
    let polls = 0;
    for (;;) {
      // Done counts finish notices (to sleep on); each worker's own sequence word says it did this job.
      const done = Atomics.load(job, Job.Done);
      if (Atomics.load(job, Job.Failed) !== 0) break;
      let all = true;
      for (let w = 1; w <= others && all; w++) all = Atomics.load(this.#doneSeq, w) === seq;
      if (all) break;
      if (++polls > this.#spinPolls) Atomics.wait(job, Job.Done, done, 1000);
    }
    if (Atomics.load(job, Job.Failed) !== 0) {
      this.close();
      throw new Error('a gbdt worker thread failed');
    }
  }

  /** Stops the workers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#workers.length === 0) return;
    this.job[Job.Command] = Command.Stop;
    Atomics.add(this.job, Job.Seq, 1);
    Atomics.notify(this.job, Job.Seq);
    for (const worker of this.#workers) void worker.terminate();
  }
}
