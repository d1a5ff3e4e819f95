/**
 * The LightGBM-style trainer: binary logloss, histogram bins, leaf-wise growth limited by
 * `num_leaves` and `max_depth`, histogram subtraction (only the smaller child of a split is
 * scanned), L1/L2-regularised leaf outputs, feature and row (bagging) subsampling, missing values
 * sent to a learned default side, and early stopping on a validation set. The per-row work runs
 * on `num_threads` shards of rows (`shard-kernels.ts`, `worker-team.ts`); gradients are rounded
 * so that every sum is exact, and the same data and parameters give the same trees bit for bit
 * on any number of threads.
 */
import { availableParallelism } from 'node:os';

import { type BinMapper } from './binning.js';
import { DataError } from './errors.js';
import { leafIndex, MissingType, type Booster, type FeatureMatrix, type Tree } from './model.js';
import { formatNumber } from './model-text.js';
import { paramsToLightgbm, type GbdtParams } from './params.js';
import { LgbRandom } from './random.js';
import { Command, Job, JobFloat } from './shard-kernels.js';
import { WorkerTeam } from './worker-team.js';

/** Features with their 0/1 labels. */
export interface LabeledData {
  readonly features: FeatureMatrix;
  /** One label per row, each 0 or 1. */
  readonly labels: ArrayLike<number>;
}

/** Options of {@link GbdtTrainer}. */
export interface TrainerOptions {
  /** Validation rows: their loss is reported every iteration and drives early stopping. */
  readonly valid?: LabeledData;
  /** Feature names written to the model. @default `Column_0` … */
  readonly featureNames?: readonly string[];
}

/** What one boosting iteration did. */
export interface IterationInfo {
  /** 1-based number of trees after this iteration. */
  readonly iteration: number;
  /** Validation binary logloss after this iteration (when there is a validation set). */
  readonly validLoss?: number;
  /** Leaves of the tree just grown. */
  readonly numLeaves: number;
}

const K_EPSILON = 1e-15;

/** LightGBM's `ThresholdL1`. */
function thresholdL1(g: number, l1: number): number {
  const reg = Math.abs(g) - l1;
  return reg > 0 ? Math.sign(g) * reg : 0;
}

/** Binary logloss of probabilities (clipped as LightGBM does). */
export function binaryLogloss(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  let sum = 0;
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - K_EPSILON, Math.max(K_EPSILON, probabilities[i] as number));
    sum -= (labels[i] as number) > 0 ? Math.log(p) : Math.log(1 - p);
  }
  return n === 0 ? 0 : sum / n;
}

function checkLabels(data: LabeledData, field: string): void {
  if (data.labels.length !== data.features.numRows) {
    throw new DataError(field, `${data.labels.length} labels for ${data.features.numRows} rows`);
  }
  for (let i = 0; i < data.labels.length; i++) {
    const y = data.labels[i];
    if (y !== 0 && y !== 1) throw new DataError(`${field}[${i}]`, `expected 0 or 1, got ${y}`);
  }
}

interface SplitCandidate {
  gain: number;
  feature: number;
  bin: number;
  defaultLeft: boolean;
  leftG: number;
  leftH: number;
  leftC: number;
}

/**
 * Trains a booster one iteration at a time ({@link GbdtTrainer.step}), so callers can interleave
 * folds, report progress and prune. {@link train} runs it to the end.
 */
export class GbdtTrainer {
  readonly params: GbdtParams;
  private readonly numRows: number;
  private readonly numFeatures: number;
  private readonly labels: Float64Array;
  private readonly mappers: BinMapper[];
  /** Each feature's first bin in a histogram (a histogram holds gradient, hessian, count per bin). */
  private readonly offsets: Int32Array;
  private readonly totalBins: number;
  private readonly usable: number[];
  private readonly featureNames: string[];
  private readonly valid: LabeledData | undefined;
  private readonly validLabels: Float64Array;
  private readonly validScore: Float64Array;
  private readonly trees: Tree[] = [];
  private readonly bagRandom: LgbRandom;
  private readonly featureRandom: LgbRandom;
  /** 1 for rows in the current bag. */
  private readonly inBag: Uint8Array;
  private bagCount: number;
  /** Gradients are multiples of 1 / gradientScale (see shard-kernels.ts). */
  private readonly gradientScale: number;
  private readonly team: WorkerTeam;
  private readonly initScore: number;
  private finished = false;
  private stop: StopReason | undefined;
  private best = { iteration: 0, loss: Infinity };
  /** Validation loss after each iteration. */
  readonly validLosses: number[] = [];

  /**
   * Checks the data, starts the shards (`num_threads`, one thread for small tables), bins every
   * feature on them and sets the initial score. Closes the worker threads again when any of it
   * fails.
   */
  constructor(train: LabeledData, params: GbdtParams, options: TrainerOptions = {}) {
    this.featureNames = checkTrainingData(train, options);
    const { numRows, numFeatures } = train.features;
    this.params = params;
    this.numRows = numRows;
    this.numFeatures = numFeatures;
    this.labels = Float64Array.from(train.labels);
    this.valid = options.valid;
    this.validLabels = Float64Array.from(options.valid?.labels ?? []);
    this.validScore = new Float64Array(this.validLabels.length);
    this.bagRandom = new LgbRandom(params.baggingSeed);
    this.featureRandom = new LgbRandom(params.featureFractionSeed);
    this.gradientScale = gradientScale(numRows, params.sigmoid);
    const shards = startShards(train.features, this.labels, params);
    this.team = shards.team;
    this.inBag = shards.inBag;
    this.bagCount = numRows;
    try {
      this.mappers = binFeatures(shards);
      const layout = histogramLayout(this.mappers);
      this.offsets = layout.offsets;
      this.totalBins = layout.totalBins;
      this.usable = layout.usable;
      this.team.setHistograms(this.totalBins);
    } catch (err) {
      this.team.close();
      throw err;
    }
    this.initScore = params.boostFromAverage ? averageScore(this.labels, params.sigmoid) : 0;
    shards.score.fill(this.initScore);
    this.validScore.fill(this.initScore);
  }

  /** True once all iterations ran, early stopping triggered, or no split was possible. */
  get done(): boolean {
    return this.finished;
  }

  /** Trees grown so far. */
  get numTrees(): number {
    return this.trees.length;
  }

  /** The 1-based iteration with the lowest validation loss (all trees without a validation set). */
  get bestIteration(): number {
    return this.valid ? this.best.iteration : this.trees.length;
  }

  /** The lowest validation loss seen (NaN without a validation set). */
  get bestValidLoss(): number {
    return this.valid ? this.best.loss : NaN;
  }

  /** Why training ended; undefined while it runs or when the caller stopped it. */
  get stopReason(): StopReason | undefined {
    return this.stop;
  }

  /** Grows one tree. Throws when already {@link GbdtTrainer.done}. */
  step(): IterationInfo {
    if (this.finished) throw new Error('training has finished');
    const p = this.params;
    const iter = this.trees.length;
    const rebag = p.baggingFreq > 0 && p.baggingFraction < 1 && iter % p.baggingFreq === 0;
    const features = this.sampleFeatures();
    const { tree, thresholdBins } = this.growTree(features, rebag);
    if (tree.numLeaves === 1 && iter > 0) {
      this.finished = true;
      this.stop = 'no-split';
      this.close();
      return { iteration: iter, numLeaves: 1, ...(this.valid ? { validLoss: this.validLosses.at(-1) } : {}) };
    }
    this.updateTrainScores(tree, thresholdBins);
    if (iter === 0 && this.initScore !== 0) addBias(tree, this.initScore);
    this.trees.push(tree);
    const info: { iteration: number; numLeaves: number; validLoss?: number } = {
      iteration: this.trees.length,
      numLeaves: tree.numLeaves,
    };
    if (this.valid) {
      const { numFeatures, values } = this.valid.features;
      for (let r = 0; r < this.validScore.length; r++) {
        // The first tree already carries the init score; the valid scores started from it.
        const leaf = leafIndex(tree, values, r * numFeatures);
        this.validScore[r] =
          (this.validScore[r] as number) + (tree.leafValue[leaf] as number) - (iter === 0 ? this.initScore : 0);
      }
      const probs = new Float64Array(this.validScore.length);
      for (let r = 0; r < probs.length; r++) probs[r] = 1 / (1 + Math.exp(-p.sigmoid * (this.validScore[r] as number)));
      const loss = binaryLogloss(this.validLabels, probs);
      this.validLosses.push(loss);
      info.validLoss = loss;
      if (loss < this.best.loss) this.best = { iteration: this.trees.length, loss };
      if (p.earlyStoppingRound > 0 && this.trees.length - this.best.iteration >= p.earlyStoppingRound) {
        this.finished = true;
        this.stop = 'early-stopping';
      }
    }
    if (this.trees.length >= p.numIterations && !this.finished) {
      this.finished = true;
      this.stop = 'iterations';
    }
    if (this.finished) this.close();
    return info;
  }

  /**
   * Runs {@link GbdtTrainer.step} until done; `onIteration` returning false stops early. The
   * worker threads are closed however it ends.
   */
  run(onIteration?: (info: IterationInfo) => boolean | void): void {
    try {
      while (!this.finished && this.trees.length < this.params.numIterations) {
        const info = this.step();
        if (onIteration?.(info) === false) break;
      }
    } finally {
      this.finished = true;
      this.close();
    }
  }

  /** The booster of the first `numTrees` trees (default: the best iteration). */
  booster(numTrees = this.bestIteration): Booster {
    const infos = this.mappers.map((m) => (m.trivial ? 'none' : `[${formatNumber(m.min)}:${formatNumber(m.max)}]`));
    return {
      maxFeatureIdx: this.numFeatures - 1,
      objective: `binary sigmoid:${formatNumber(this.params.sigmoid)}`,
      sigmoid: this.params.sigmoid,
      featureNames: [...this.featureNames],
      featureInfos: infos,
      trees: this.trees.slice(0, Math.max(0, numTrees)),
      parameters: paramsToLightgbm(this.params),
    };
  }

  private sampleFeatures(): number[] {
    const total = this.usable.length;
    const fraction = this.params.featureFraction;
    if (fraction >= 1 || total <= 1) return this.usable;
    const count = Math.max(1, Math.min(total, Math.floor(total * fraction + 0.5)));
    return this.featureRandom.sample(total, count).map((i) => this.usable[i] as number);
  }

  /** Writes the features (and their histogram ranges) of the jobs of one tree into the control block. */
  private setJobFeatures(features: Int32Array): void {
    const job = this.team.job;
    const nf = features.length;
    job[Job.NumFeatures] = nf;
    for (let j = 0; j < nf; j++) {
      const f = features[j] as number;
      job[Job.Features + j] = f;
      job[Job.Features + nf + j] = (this.offsets[f] as number) * 3;
      job[Job.Features + 2 * nf + j] = (this.offsets[f + 1] as number) * 3;
    }
  }

  /**
   * Completes the histogram in slot `small` (adding the workers' partials), turns slot `parent`
   * into the large child's (subtraction; -1: none) and finds the best split of each child whose
   * sums are given, all shards sharing the features.
   */
  private scan(
    small: number,
    parent: number,
    smallSums: readonly [number, number, number] | null,
    largeSums: readonly [number, number, number] | null,
  ): [SplitCandidate | null, SplitCandidate | null] {
    const { job, jobFloat, best } = this.team;
    job[Job.Command] = Command.Scan;
    job[Job.A0] = small;
    job[Job.A1] = parent;
    job[Job.A2] = smallSums ? 1 : 0;
    job[Job.A3] = largeSums ? 1 : 0;
    if (smallSums) jobFloat.set(smallSums, JobFloat.LeafSums);
    if (largeSums) jobFloat.set(largeSums, JobFloat.LeafSums + 3);
    this.team.run();
    const pick = (child: number): SplitCandidate | null => {
      // The highest gain; on a tie the feature first in the list (as one thread scanning in order).
      let o = -1;
      for (let t = 0; t < this.team.threads; t++) {
        const c = t * 16 + child * 8;
        if ((best[c + 1] as number) < 0) continue;
        const better =
          o < 0 ||
          (best[c] as number) > (best[o] as number) ||
          (best[c] === best[o] && (best[c + 7] as number) < (best[o + 7] as number));
        if (better) o = c;
      }
      if (o < 0) return null;
      return {
        gain: best[o] as number,
        feature: best[o + 1] as number,
        bin: best[o + 2] as number,
        defaultLeft: best[o + 3] === 1,
        leftG: best[o + 4] as number,
        leftH: best[o + 5] as number,
        leftC: best[o + 6] as number,
      };
    };
    return [smallSums ? pick(0) : null, largeSums ? pick(1) : null];
  }

  /** Stops the worker threads (training is done, or abandoned). Idempotent. */
  close(): void {
    this.team.close();
  }

  /** Live worker threads of the shards (0 once closed and every worker has exited). */
  get workerThreads(): number {
    return this.team.liveWorkers;
  }

  /** {@link GbdtTrainer.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** {@link GbdtTrainer.close}, then waits until every worker thread has exited (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.team.exited();
  }

  private leafOutput(g: number, h: number): number {
    return -thresholdL1(g, this.params.lambdaL1) / (h + this.params.lambdaL2);
  }

  private growTree(featureList: number[], rebag: boolean): { tree: Tree; thresholdBins: Int32Array } {
    const p = this.params;
    const maxLeaves = p.numLeaves;
    const features = Int32Array.from(featureList);
    const { job, jobFloat } = this.team;

    const leafCount = new Int32Array(maxLeaves);
    const leafG = new Float64Array(maxLeaves);
    const leafH = new Float64Array(maxLeaves);
    const leafDepth = new Int32Array(maxLeaves);
    const leafParent = new Int32Array(maxLeaves).fill(-1);
    // Each leaf's histogram slot (-1: none); the free slots.
    const leafSlot = new Int32Array(maxLeaves).fill(-1);
    const free: number[] = [];
    for (let i = this.team.leafSlots - 1; i >= 0; i--) free.push(i);
    const leafBest: Array<SplitCandidate | null> = new Array<SplitCandidate | null>(maxLeaves).fill(null);

    const nodes = maxLeaves - 1;
    const splitFeature = new Int32Array(nodes);
    const splitGain = new Float64Array(nodes);
    const threshold = new Float64Array(nodes);
    const decisionType = new Uint8Array(nodes);
    const leftChild = new Int32Array(nodes);
    const rightChild = new Int32Array(nodes);
    const thresholdBin = new Int32Array(nodes);
    const internalValue = new Float64Array(nodes);
    const internalWeight = new Float64Array(nodes);
    const internalCount = new Float64Array(nodes);

    const canSplit = (leaf: number): boolean =>
      (p.maxDepth <= 0 || (leafDepth[leaf] as number) < p.maxDepth) &&
      (leafCount[leaf] as number) >= 2 * Math.max(1, p.minDataInLeaf);
    // Gradients, the bag (each shard draws its rows) and leaf 0 with its histogram, on every shard.
    let rootSlot = maxLeaves > 1 && features.length > 0 ? (free.pop() as number) : -1;
    const rootHist = rootSlot >= 0 ? this.team.slot(rootSlot) : undefined;
    this.setJobFeatures(rootHist ? features : new Int32Array(0));
    job[Job.Command] = Command.BeginTree;
    job[Job.A0] = rebag ? 2 : 0;
    job[Job.A1] = this.bagRandom.state | 0;
    jobFloat[JobFloat.Sigmoid] = p.sigmoid;
    jobFloat[JobFloat.Scale] = this.gradientScale;
    jobFloat[JobFloat.InvScale] = 1 / this.gradientScale;
    jobFloat[JobFloat.BaggingFraction] = p.baggingFraction;
    this.team.run(rootHist);
    if (rebag) this.bagRandom.skip(this.numRows);
    const sums = this.team.sums;
    const total = (i: number): number => {
      let sum = 0;
      for (let t = 0; t < this.team.threads; t++) sum += sums[3 * t + i] as number;
      return sum;
    };
    if (total(2) === 0) {
      // An empty bag keeps row 0 (as LightGBM does).
      this.inBag[0] = 1;
      job[Job.A0] = 1;
      this.team.run(rootHist);
    }
    this.setJobFeatures(features);
    this.bagCount = total(2);
    leafCount[0] = this.bagCount;
    const sumG = total(0);
    const sumH = total(1);
    leafG[0] = sumG;
    leafH[0] = sumH;
    if (rootSlot >= 0 && !canSplit(0)) {
      free.push(rootSlot);
      rootSlot = -1;
    }
    if (rootSlot >= 0) {
      leafSlot[0] = rootSlot;
      leafBest[0] = this.scan(rootSlot, -1, [sumG, sumH, this.bagCount], null)[0];
    }

    let numLeaves = 1;
    while (numLeaves < maxLeaves) {
      let bestLeaf = -1;
      let bestGain = 0;
      for (let l = 0; l < numLeaves; l++) {
        const cand = leafBest[l];
        if (cand && cand.gain > bestGain) {
          bestGain = cand.gain;
          bestLeaf = l;
        }
      }
      if (bestLeaf < 0) break;
      const split = leafBest[bestLeaf] as SplitCandidate;
      const mapper = this.mappers[split.feature] as BinMapper;
      const node = numLeaves - 1;
      const right = numLeaves;
      const parentNode = leafParent[bestLeaf] as number;
      if (parentNode >= 0) {
        if (leftChild[parentNode] === ~bestLeaf) leftChild[parentNode] = node;
        else rightChild[parentNode] = node;
      }
      splitFeature[node] = split.feature;
      splitGain[node] = split.gain;
      thresholdBin[node] = split.bin;
      threshold[node] = mapper.upperBounds[split.bin] as number;
      decisionType[node] = (split.defaultLeft ? 2 : 0) | (mapper.missingType << 2);
      leftChild[node] = ~bestLeaf;
      rightChild[node] = ~right;
      internalValue[node] = this.leafOutput(leafG[bestLeaf] as number, leafH[bestLeaf] as number);
      internalWeight[node] = leafH[bestLeaf] as number;
      internalCount[node] = leafCount[bestLeaf] as number;
      leafParent[bestLeaf] = node;
      leafParent[right] = node;

      // The histogram's counts are exact, so the children's sizes are known before partitioning.
      const nl = split.leftC;
      const nr = (leafCount[bestLeaf] as number) - nl;
      const depth = (leafDepth[bestLeaf] as number) + 1;
      leafCount[right] = nr;
      leafCount[bestLeaf] = nl;
      leafG[right] = (leafG[bestLeaf] as number) - split.leftG;
      leafH[right] = (leafH[bestLeaf] as number) - split.leftH;
      leafG[bestLeaf] = split.leftG;
      leafH[bestLeaf] = split.leftH;
      leafDepth[bestLeaf] = depth;
      leafDepth[right] = depth;
      leafBest[bestLeaf] = null;
      numLeaves++;

      const parentSlot = leafSlot[bestLeaf] as number;
      leafSlot[bestLeaf] = -1;
      const more = numLeaves < maxLeaves && (canSplit(bestLeaf) || canSplit(right));
      // Histogram subtraction: scan the smaller child, derive the larger from the parent.
      const small = nl <= nr ? bestLeaf : right;
      const large = nl <= nr ? right : bestLeaf;
      const smallSlot = more ? (free.pop() as number) : -1;
      // Partition the leaf's rows on every shard (left stay, right follow), then sum the smaller child.
      job[Job.Command] = Command.Split;
      job[Job.A0] = bestLeaf;
      job[Job.A1] = right;
      job[Job.A2] = split.feature;
      job[Job.A3] = split.bin;
      job[Job.A4] = split.defaultLeft ? 1 : 0;
      job[Job.A5] = smallSlot >= 0 ? small : -1;
      this.team.run(smallSlot >= 0 ? this.team.slot(smallSlot) : undefined);
      if (smallSlot >= 0) {
        const sumsOf = (leaf: number): [number, number, number] | null =>
          canSplit(leaf) ? [leafG[leaf] as number, leafH[leaf] as number, leafCount[leaf] as number] : null;
        const [smallBest, largeBest] = this.scan(smallSlot, parentSlot, sumsOf(small), sumsOf(large));
        leafSlot[small] = smallSlot;
        leafSlot[large] = parentSlot;
        leafBest[small] = smallBest;
        leafBest[large] = largeBest;
      } else {
        free.push(parentSlot);
      }
    }

    const lr = p.learningRate;
    const leafValue = new Float64Array(numLeaves);
    const leafWeight = new Float64Array(numLeaves);
    const leafCountOut = new Float64Array(numLeaves);
    for (let l = 0; l < numLeaves; l++) {
      leafValue[l] = this.leafOutput(leafG[l] as number, leafH[l] as number) * lr;
      leafWeight[l] = leafH[l] as number;
      leafCountOut[l] = leafCount[l] as number;
    }
    const usedNodes = numLeaves - 1;
    const internal = internalValue.slice(0, usedNodes).map((v) => v * lr);
    const tree: Tree = {
      numLeaves,
      splitFeature: splitFeature.slice(0, usedNodes),
      splitGain: splitGain.slice(0, usedNodes),
      threshold: threshold.slice(0, usedNodes),
      decisionType: decisionType.slice(0, usedNodes),
      leftChild: leftChild.slice(0, usedNodes),
      rightChild: rightChild.slice(0, usedNodes),
      leafValue,
      leafWeight,
      leafCount: leafCountOut,
      internalValue: internal,
      internalWeight: internalWeight.slice(0, usedNodes),
      internalCount: internalCount.slice(0, usedNodes),
      shrinkage: lr,
    };
    return { tree, thresholdBins: thresholdBin.slice(0, usedNodes) };
  }

  /** Adds the tree's leaf values to the training scores (every shard its rows; out-of-bag rows walk the tree). */
  private updateTrainScores(tree: Tree, thresholdBin: Int32Array): void {
    const { job, jobFloat, tree: block } = this.team;
    jobFloat.set(tree.leafValue, JobFloat.LeafValues);
    for (let node = 0; node < tree.numLeaves - 1; node++) {
      block[5 * node] = tree.splitFeature[node] as number;
      block[5 * node + 1] = thresholdBin[node] as number;
      block[5 * node + 2] = ((tree.decisionType[node] as number) & 2) !== 0 ? 1 : 0;
      block[5 * node + 3] = tree.leftChild[node] as number;
      block[5 * node + 4] = tree.rightChild[node] as number;
    }
    job[Job.Command] = Command.EndTree;
    job[Job.A0] = tree.numLeaves;
    this.team.run();
  }
}

/**
 * Checks the training (and validation) data: shapes, 0/1 labels, feature names that model.txt
 * can hold. Returns the feature names (`Column_<i>` when none are given).
 */
function checkTrainingData(train: LabeledData, options: TrainerOptions): string[] {
  checkLabels(train, 'label');
  const { numRows, numFeatures, values } = train.features;
  if (numRows === 0) throw new DataError('features', 'no training rows');
  if (numFeatures === 0) throw new DataError('features', 'no feature columns');
  if (values.length !== numRows * numFeatures) {
    throw new DataError('features', `expected ${numRows * numFeatures} values, got ${values.length}`);
  }
  const names = options.featureNames ? [...options.featureNames] : [];
  if (names.length === 0) for (let f = 0; f < numFeatures; f++) names.push(`Column_${f}`);
  if (names.length !== numFeatures) {
    throw new DataError('featureNames', `${names.length} names for ${numFeatures} features`);
  }
  for (const name of names) {
    if (name === '' || /[\s=:[\]]/.test(name)) {
      throw new DataError('featureNames', `${JSON.stringify(name)} cannot be written to model.txt`);
    }
  }
  if (options.valid) {
    checkLabels(options.valid, 'valid.label');
    if (options.valid.features.numFeatures !== numFeatures) {
      throw new DataError(
        'valid.features',
        `${options.valid.features.numFeatures} features, training has ${numFeatures}`,
      );
    }
  }
  return names;
}

/**
 * The unit of the rounded gradients, 2^k: sums of at most numRows gradients (|g| <= sigmoid) or
 * hessians (<= sigmoid^2 / 4) stay below 2^52 units, so every sum is exact.
 */
function gradientScale(numRows: number, sigmoid: number): number {
  const bound = numRows * Math.max(sigmoid, (sigmoid * sigmoid) / 4);
  return 2 ** Math.max(-1000, Math.min(1000, Math.floor(51 - Math.log2(bound))));
}

/** The shards of a training run and the shared arrays the trainer reads or writes. */
interface Shards {
  readonly team: WorkerTeam;
  readonly numFeatures: number;
  readonly maxBin: number;
  /** Per feature, its bin upper bounds (`maxBin + 1` slots each), as binning found them. */
  readonly binBounds: Float64Array;
  /** Per feature: bound count, has NaN, min, max. */
  readonly binMeta: Float64Array;
  /** The training scores. */
  readonly score: Float64Array;
  /** 1 for rows in the current bag. */
  readonly inBag: Uint8Array;
}

/**
 * Starts the shards: shard 0 on this thread plus `num_threads - 1` workers (threads pay only
 * when a histogram has many rows; small tables stay on one thread), over arrays shared with them.
 */
function startShards(features: FeatureMatrix, labels: Float64Array, params: GbdtParams): Shards {
  const { numRows, numFeatures, values } = features;
  const requested = params.numThreads > 0 ? params.numThreads : Math.min(4, availableParallelism());
  const threads = requested > 1 && numRows * numFeatures >= 200_000 ? requested : 1;
  const buffer = (bytes: number): ArrayBuffer | SharedArrayBuffer =>
    threads > 1 ? new SharedArrayBuffer(Math.max(8, bytes)) : new ArrayBuffer(Math.max(8, bytes));
  // Bins from a sample of rows (all rows when there are few enough), found on every thread.
  const sampleRows =
    numRows > params.binConstructSampleCnt
      ? new LgbRandom(params.dataRandomSeed).sample(numRows, params.binConstructSampleCnt)
      : [];
  const shareValues = threads > 1 || !(values instanceof Float64Array);
  const sharedValues = shareValues ? new Float64Array(buffer(values.length * 8)) : (values as Float64Array);
  if (shareValues) sharedValues.set(values);
  const binBounds = new Float64Array(buffer(numFeatures * (params.maxBin + 1) * 8));
  const binMeta = new Float64Array(buffer(numFeatures * 4 * 8));
  const sharedLabels = new Float64Array(buffer(numRows * 8));
  sharedLabels.set(labels);
  const score = new Float64Array(buffer(numRows * 8));
  const inBag = new Uint8Array(buffer(numRows)).fill(1);
  const team = new WorkerTeam(
    {
      numRows,
      numFeatures,
      // Feature-major bins: a histogram pass reads a few columns in row order.
      bins:
        Math.max(2, params.maxBin) <= 256
          ? new Uint8Array(buffer(numRows * numFeatures))
          : new Uint16Array(buffer(numRows * numFeatures * 2)),
      labels: sharedLabels,
      score,
      gh: new Float64Array(buffer(numRows * 16)),
      inBag,
      nanBin: new Int32Array(buffer(numFeatures * 4)),
      numValueBins: new Int32Array(buffer(numFeatures * 4)),
      maxLeaves: Math.max(2, params.numLeaves),
      values: sharedValues,
      sampleRows: Int32Array.from(sampleRows),
      maxBin: params.maxBin,
      minDataInBin: params.minDataInBin,
      binBounds,
      binMeta,
      splitConfig: Float64Array.of(
        params.minDataInLeaf,
        params.minSumHessianInLeaf,
        params.lambdaL1,
        params.lambdaL2,
        params.minGainToSplit,
      ),
    },
    threads,
  );
  return { team, numFeatures, maxBin: params.maxBin, binBounds, binMeta, score, inBag };
}

/** Bins every feature on the shards and returns the bin mappers (written to model.txt too). */
function binFeatures(shards: Shards): BinMapper[] {
  const { team, binBounds, binMeta, maxBin } = shards;
  team.job[Job.Command] = Command.Bin;
  team.job[Job.A0] = 0;
  team.run();
  const mappers: BinMapper[] = [];
  for (let f = 0; f < shards.numFeatures; f++) {
    const numBounds = binMeta[4 * f] as number;
    const hasNan = binMeta[4 * f + 1] === 1;
    mappers.push({
      numBins: numBounds + (hasNan ? 1 : 0),
      upperBounds: binBounds.slice(f * (maxBin + 1), f * (maxBin + 1) + numBounds),
      nanBin: hasNan ? numBounds : -1,
      missingType: hasNan ? MissingType.NaN : MissingType.None,
      trivial: numBounds <= 1 && !hasNan,
      min: binMeta[4 * f + 2] as number,
      max: binMeta[4 * f + 3] as number,
    });
  }
  return mappers;
}

/** Where each feature's bins start in a histogram, the bin total, and the non-trivial features. */
function histogramLayout(mappers: readonly BinMapper[]): { offsets: Int32Array; totalBins: number; usable: number[] } {
  const offsets = new Int32Array(mappers.length + 1);
  mappers.forEach((m, f) => (offsets[f + 1] = (offsets[f] as number) + m.numBins));
  const usable: number[] = [];
  mappers.forEach((m, f) => {
    if (!m.trivial) usable.push(f);
  });
  return { offsets, totalBins: offsets[mappers.length] as number, usable };
}

/** LightGBM's `boost_from_average` init score: the log-odds of the positive rate (0 when all rows share a label). */
function averageScore(labels: Float64Array, sigmoid: number): number {
  let positives = 0;
  for (const y of labels) positives += y;
  const p = positives / labels.length;
  const score = p > 0 && p < 1 ? Math.log(p / (1 - p)) / sigmoid : 0;
  return Math.abs(score) <= K_EPSILON ? 0 : score;
}

/** Adds the initial score to every leaf and internal value (LightGBM `Tree::AddBias`). */
function addBias(tree: Tree, bias: number): void {
  for (let l = 0; l < tree.leafValue.length; l++) tree.leafValue[l] = (tree.leafValue[l] as number) + bias;
  for (let n = 0; n < tree.internalValue.length; n++) {
    tree.internalValue[n] = (tree.internalValue[n] as number) + bias;
  }
}

/** The result of {@link train}. */
/**
 * Why training ended: `iterations` after `num_iterations` trees; `early-stopping` when the
 * validation loss had not improved for `early_stopping_round` rounds; `no-split` when no split
 * of the next tree lowered the training loss.
 */
export type StopReason = 'iterations' | 'early-stopping' | 'no-split';

export interface TrainResult {
  /** The booster truncated to the best iteration (all trees without a validation set). */
  readonly booster: Booster;
  readonly bestIteration: number;
  /** Validation loss per iteration (empty without a validation set). */
  readonly validLosses: readonly number[];
  readonly stopReason: StopReason;
}

/** Trains a booster to the end (all iterations or early stopping). */
export function train(data: LabeledData, params: GbdtParams, options: TrainerOptions = {}): TrainResult {
  using trainer = new GbdtTrainer(data, params, options);
  trainer.run();
  return {
    booster: trainer.booster(),
    bestIteration: trainer.bestIteration,
    validLosses: [...trainer.validLosses],
    // Without a callback, run() ends by a reason or, with num_iterations 0, before any tree.
    stopReason: trainer.stopReason ?? 'iterations',
  };
}
