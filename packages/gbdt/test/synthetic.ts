import type { FeatureMatrix } from '../src/index.js';

/** A seeded table with a nonlinear signal, noise columns and missing values. */
export function syntheticTable(
  numRows: number,
  numFeatures: number,
  seed: number,
  missingRate = 0.05,
): { features: FeatureMatrix; labels: Float64Array } {
  let x = seed >>> 0 || 1;
  const rand = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
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
    const logit = 1.5 * a - b * b + Math.sin(2 * c) + (d >= 3 ? 0.8 : -0.4) + 0.5 * a * (row[4] ?? 0);
    labels[r] = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    for (let f = 0; f < numFeatures; f++) if (rand() < missingRate) row[f] = NaN;
  }
  return { features: { numRows, numFeatures, values }, labels };
}
