/**
 * Numeric feature tables as CSV text (the `kzr gbdt` input): a header row of column names,
 * then one row of numbers per example. Empty cells and `nan` / `NA` are missing values (NaN).
 */
import { DataError } from './errors.js';
import type { Booster, FeatureMatrix } from './model.js';
import { parseInfinity } from './number-text.js';

/** A parsed CSV table: column names and row-major values. */
export interface Table {
  readonly columns: readonly string[];
  readonly numRows: number;
  /** `numRows * columns.length` values, row-major; NaN for a missing cell. */
  readonly values: Float64Array;
}

const MISSING = new Set(['', 'nan', 'NaN', 'NAN', 'NA', 'na', 'null', 'None']);

function parseCell(cell: string, line: number, column: string): number {
  const text = cell.trim();
  if (MISSING.has(text)) return NaN;
  const infinity = parseInfinity(text);
  if (infinity !== undefined) return infinity;
  const value = Number(text);
  if (Number.isNaN(value)) {
    throw new DataError(`csv line ${line}`, `column ${JSON.stringify(column)}: not a number: ${JSON.stringify(cell)}`);
  }
  return value;
}

/** Parses CSV text with a header row. Every row must have as many cells as the header. */
export function parseCsvTable(text: string): Table {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && (lines[lines.length - 1] as string).trim() === '') lines.pop();
  const headerLine = lines[0];
  if (headerLine === undefined || headerLine.trim() === '') throw new DataError('csv line 1', 'missing header row');
  const columns = headerLine.split(',').map((name) => name.trim());
  const width = columns.length;
  const numRows = lines.length - 1;
  const values = new Float64Array(numRows * width);
  for (let r = 0; r < numRows; r++) {
    const cells = (lines[r + 1] as string).split(',');
    if (cells.length !== width) {
      throw new DataError(`csv line ${r + 2}`, `expected ${width} cells, found ${cells.length}`);
    }
    for (let c = 0; c < width; c++) values[r * width + c] = parseCell(cells[c] as string, r + 2, columns[c] as string);
  }
  return { columns, numRows, values };
}

/** Copies the named or indexed columns of a table into a feature matrix, in the given order. */
export function selectColumns(table: Table, indices: readonly number[]): FeatureMatrix {
  const width = table.columns.length;
  const numFeatures = indices.length;
  const values = new Float64Array(table.numRows * numFeatures);
  for (let r = 0; r < table.numRows; r++) {
    for (let f = 0; f < numFeatures; f++)
      values[r * numFeatures + f] = table.values[r * width + (indices[f] as number)] as number;
  }
  return { numRows: table.numRows, numFeatures, values };
}

/** Splits a table into features (every column but the label, in order) and 0/1 labels. */
export function splitLabel(
  table: Table,
  labelColumn = 'label',
): { features: FeatureMatrix; labels: Float64Array; featureNames: string[] } {
  const labelIndex = table.columns.indexOf(labelColumn);
  if (labelIndex < 0) throw new DataError('label', `column ${JSON.stringify(labelColumn)} not in the CSV header`);
  const indices = table.columns.map((_, c) => c).filter((c) => c !== labelIndex);
  const labels = new Float64Array(table.numRows);
  for (let r = 0; r < table.numRows; r++) {
    const y = table.values[r * table.columns.length + labelIndex] as number;
    if (y !== 0 && y !== 1) throw new DataError(`label[${r}]`, `expected 0 or 1, got ${y}`);
    labels[r] = y;
  }
  return {
    features: selectColumns(table, indices),
    labels,
    featureNames: indices.map((c) => table.columns[c] as string),
  };
}

/**
 * The feature matrix a model reads from a table: by the model's feature names when the header
 * has them all, otherwise the first `maxFeatureIdx + 1` columns other than the label column.
 */
export function featuresForModel(table: Table, booster: Booster, labelColumn = 'label'): FeatureMatrix {
  const byName = booster.featureNames.map((name) => table.columns.indexOf(name));
  if (byName.every((c) => c >= 0)) return selectColumns(table, byName);
  const indices = table.columns.map((_, c) => c).filter((c) => table.columns[c] !== labelColumn);
  const needed = booster.maxFeatureIdx + 1;
  if (indices.length < needed) {
    throw new DataError('features', `the model reads ${needed} features, the CSV has ${indices.length} columns`);
  }
  return selectColumns(table, indices.slice(0, needed));
}
