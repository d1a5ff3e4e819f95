// Test and benchmark surface of @kzr/gbdt (`@kzr/gbdt/internal`): seeded synthetic data and LightGBM's generator.
export { LgbRandom, lcgSkip } from './random.js';
export { syntheticTable, xorshift32 } from './synthetic-table.js';
export type { SyntheticTableOptions } from './synthetic-table.js';
