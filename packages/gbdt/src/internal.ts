// Test and benchmark surface of @kzr/gbdt (`@kzr/gbdt/internal`): seeded synthetic data, LightGBM's generator, binning.
export { buildBinMapper, sortedSample, valueToBin } from './binning.js';
export type { BinMapper } from './binning.js';
export { LgbRandom, lcgSkip } from './random.js';
export { syntheticTable, xorshift32 } from './synthetic-table.js';
export type { SyntheticTableOptions } from './synthetic-table.js';
