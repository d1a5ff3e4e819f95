import { DataError } from './errors.js';

/**
 * The in-memory form of a LightGBM-style booster and its exact predictor. The layout mirrors
 * LightGBM's `Tree` (arrays indexed by internal node or by leaf) so a model read from a
 * LightGBM `model.txt` predicts exactly as LightGBM does and writes back field for field.
 */

/** `decision_type` bit 0: a categorical split (kzr reads numerical splits only). */
export const DECISION_CATEGORICAL_MASK = 1;
/** `decision_type` bit 1: missing values go to the left child. */
export const DECISION_DEFAULT_LEFT_MASK = 2;

/** How a numerical split treats missing values (`decision_type` bits 2–3), as in LightGBM. */
export const MissingType = {
  /** No missing handling: NaN is read as 0 and compared with the threshold. */
  None: 0,
  /** Zero (|v| ≤ 1e-35) and NaN go to the default side. */
  Zero: 1,
  /** NaN goes to the default side. */
  NaN: 2,
} as const;
export type MissingType = (typeof MissingType)[keyof typeof MissingType];

/** LightGBM's `kZeroThreshold`: values this close to 0 count as zero for `MissingType.Zero`. */
const ZERO_THRESHOLD = 1e-35;

/**
 * One regression tree, LightGBM layout. Internal node `i` splits on `splitFeature[i]` at
 * `threshold[i]`; a child index `c >= 0` is an internal node, `c < 0` is leaf `~c`.
 * A tree with one leaf has empty node arrays.
 */
export interface Tree {
  readonly numLeaves: number;
  readonly splitFeature: Int32Array;
  /** Gain of each split (informational). */
  readonly splitGain: Float64Array;
  readonly threshold: Float64Array;
  readonly decisionType: Uint8Array;
  readonly leftChild: Int32Array;
  readonly rightChild: Int32Array;
  /** Output of each leaf, shrinkage (learning rate) already applied. */
  readonly leafValue: Float64Array;
  /** Sum of hessians per leaf. */
  readonly leafWeight: Float64Array;
  /** Training rows per leaf. */
  readonly leafCount: Float64Array;
  readonly internalValue: Float64Array;
  readonly internalWeight: Float64Array;
  readonly internalCount: Float64Array;
  /** Product of the learning rates applied to this tree (LightGBM `shrinkage`). */
  readonly shrinkage: number;
}

/** A binary-logloss booster: the trees plus the header LightGBM writes. */
export interface Booster {
  /** Index of the last feature the model may read; rows need `maxFeatureIdx + 1` values. */
  readonly maxFeatureIdx: number;
  /** LightGBM's objective string, for example `binary sigmoid:1`. */
  readonly objective: string;
  /** The sigmoid scale parsed from {@link Booster.objective}. */
  readonly sigmoid: number;
  readonly featureNames: readonly string[];
  /** Per feature `[min:max]` of the training values, or `none` for an unused feature. */
  readonly featureInfos: readonly string[];
  readonly trees: readonly Tree[];
  /** The `parameters:` section as ordered `[key, value]` pairs (empty when absent). */
  readonly parameters: ReadonlyArray<readonly [string, string]>;
}

/** Row-major feature values; NaN marks a missing value. */
export interface FeatureMatrix {
  readonly numRows: number;
  readonly numFeatures: number;
  /** `numRows * numFeatures` values, row `r` at `[r * numFeatures, (r + 1) * numFeatures)`. */
  readonly values: Float64Array;
}

/**
 * The leaf a row falls into, following LightGBM's `NumericalDecision` exactly (NaN read as 0
 * unless the split's missing type is NaN; zero or NaN to the default side by missing type).
 */
export function leafIndex(tree: Tree, values: ArrayLike<number>, offset = 0): number {
  if (tree.numLeaves <= 1) return 0;
  const { splitFeature, threshold, decisionType, leftChild, rightChild } = tree;
  let node = 0;
  while (node >= 0) {
    let v = values[offset + (splitFeature[node] as number)] as number;
    const type = decisionType[node] as number;
    const missing = (type >> 2) & 3;
    if (Number.isNaN(v) && missing !== MissingType.NaN) v = 0;
    let goLeft: boolean;
    if (
      (missing === MissingType.Zero && v >= -ZERO_THRESHOLD && v <= ZERO_THRESHOLD) ||
      (missing === MissingType.NaN && Number.isNaN(v))
    ) {
      goLeft = (type & DECISION_DEFAULT_LEFT_MASK) !== 0;
    } else {
      goLeft = v <= (threshold[node] as number);
    }
    node = goLeft ? (leftChild[node] as number) : (rightChild[node] as number);
  }
  return ~node;
}

/** Sum of the first `numTrees` trees' outputs for one row (LightGBM's raw score). */
export function predictRawRow(booster: Booster, values: ArrayLike<number>, offset = 0, numTrees?: number): number {
  const trees = booster.trees;
  const n = Math.min(numTrees ?? trees.length, trees.length);
  let sum = 0;
  for (let t = 0; t < n; t++) {
    const tree = trees[t] as Tree;
    sum += tree.leafValue[leafIndex(tree, values, offset)] as number;
  }
  return sum;
}

/** LightGBM's binary transform: `1 / (1 + exp(-sigmoid * raw))`. */
export function sigmoidOf(raw: number, sigmoid: number): number {
  return 1 / (1 + Math.exp(-sigmoid * raw));
}

/** Options of {@link predict}. */
export interface PredictOptions {
  /** Use only the first N trees (LightGBM `num_iteration`). @default all trees */
  readonly numTrees?: number;
  /** Return raw scores instead of probabilities. @default false */
  readonly raw?: boolean;
}

/**
 * Predicts P(label = 1) for every row (or the raw score with `raw`). Rows must have at least
 * `maxFeatureIdx + 1` columns; extra columns are ignored.
 */
export function predict(booster: Booster, matrix: FeatureMatrix, options: PredictOptions = {}): Float64Array {
  if (matrix.numFeatures < booster.maxFeatureIdx + 1) {
    throw new DataError(
      'features',
      `rows have ${matrix.numFeatures} features, the model reads ${booster.maxFeatureIdx + 1}`,
    );
  }
  const out = new Float64Array(matrix.numRows);
  for (let r = 0; r < matrix.numRows; r++) {
    const raw = predictRawRow(booster, matrix.values, r * matrix.numFeatures, options.numTrees);
    out[r] = options.raw === true ? raw : sigmoidOf(raw, booster.sigmoid);
  }
  return out;
}
