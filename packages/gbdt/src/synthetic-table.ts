/**
 * Seeded synthetic data for tests and benchmarks (the `@kzr/gbdt/internal` surface): a
 * xorshift32 stream and a binary-classification table with a known nonlinear signal, so tests,
 * bench/gbdt and the postprocess fixtures draw the same numbers from the same seed.
 */
import type { FeatureMatrix } from './model.js';

/**
 * A xorshift32 stream of floats in [0, 1) (seed 0 is taken as 1). Cheap and reproducible
 * across runs and machines; not for anything that needs statistical quality.
 */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Options of {@link syntheticTable}. */
export interface SyntheticTableOptions {
  /** Share of cells replaced by NaN, drawn per cell. @default 0.05 */
  readonly missingRate?: number;
  /**
   * Adds `0.7·tanh(x5·x6) − 0.3·|x7|` to the logit (the wider signal bench/gbdt measures on);
   * needs at least 8 features.
   * @default false
   */
  readonly extraSignal?: boolean;
}

/**
 * A seeded table: Gaussian columns and an integer column (index 3, values 0..5), a label drawn
 * from the logistic of `1.5·x0 − x1² + sin(2·x2) + (x3 ≥ 3 ? 0.8 : −0.4) + 0.5·x0·x4` (columns
 * beyond the table count as 0), then missing values. The remaining columns are noise.
 */
export function syntheticTable(
  numRows: number,
  numFeatures: number,
  seed: number,
  options: SyntheticTableOptions = {},
): { features: FeatureMatrix; labels: Float64Array } {
  const missingRate = options.missingRate ?? 0.05;
  const extraSignal = options.extraSignal ?? false;
  if (extraSignal && numFeatures < 8) throw new RangeError('extraSignal needs at least 8 features');
  const rand = xorshift32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const values = new Float64Array(numRows * numFeatures);
  const labels = new Float64Array(numRows);
  for (let r = 0; r < numRows; r++) {
    const row = values.subarray(r * numFeatures, (r + 1) * numFeatures);
    for (let f = 0; f < numFeatures; f++) row[f] = f === 3 ? Math.floor(rand() * 6) : gauss();
    const a = row[0]!;
    const b = row[1] ?? 0;
    const c = row[2] ?? 0;
    const d = row[3] ?? 0;
    let logit = 1.5 * a - b * b + Math.sin(2 * c) + (d >= 3 ? 0.8 : -0.4) + 0.5 * a * (row[4] ?? 0);
    // Added term by term, in bench/gbdt's original order, so its tables stay bit-identical.
    if (extraSignal) logit = logit + 0.7 * Math.tanh(row[5]! * row[6]!) - 0.3 * Math.abs(row[7]!);
    labels[r] = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    for (let f = 0; f < numFeatures; f++) if (rand() < missingRate) row[f] = NaN;
  }
  return { features: { numRows, numFeatures, values }, labels };
}
