// Test and benchmark surface of @kzr/gbdt (`@kzr/gbdt/internal`): seeded synthetic data.
export { syntheticTable, xorshift32 } from './synthetic-table.js';
export type { SyntheticTableOptions } from './synthetic-table.js';
