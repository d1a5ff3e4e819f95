/**
 * Reads and writes LightGBM's text model format (`model.txt`, format `version=v4`).
 *
 * The reader accepts what LightGBM 4 writes for a binary objective with numerical splits:
 * literal `inf` / `-inf` / `nan` numbers, missing-value decision types and one-leaf trees.
 * The writer emits LightGBM's header keys in LightGBM's order, `tree_sizes` equal to the byte
 * length of each `Tree=` block, and the same tree fields, so LightGBM itself can load the file.
 */
import { ModelFormatError } from './errors.js';
import { DECISION_CATEGORICAL_MASK, type Booster, type Tree } from './model.js';
import { parseInfinity } from './number-text.js';

/** Parses one number as LightGBM writes it; `inf`, `-inf` and `nan` are literal. */
function parseNumber(token: string, field: string): number {
  const infinity = parseInfinity(token);
  if (infinity !== undefined) return infinity;
  const lower = token.toLowerCase();
  if (lower === 'nan' || lower === '-nan') return NaN;
  const value = Number(token);
  if (token === '' || Number.isNaN(value)) throw new ModelFormatError(field, `not a number: ${JSON.stringify(token)}`);
  return value;
}

function parseArray(text: string | undefined, expected: number, field: string): number[] {
  const tokens = text === undefined || text.trim() === '' ? [] : text.trim().split(/\s+/);
  if (tokens.length !== expected) {
    throw new ModelFormatError(field, `expected ${expected} values, found ${tokens.length}`);
  }
  return tokens.map((token, i) => parseNumber(token, `${field}[${i}]`));
}

function parseTree(fields: Map<string, string>, name: string, maxFeatureIdx: number): Tree {
  const get = (key: string): string | undefined => fields.get(key);
  const numLeaves = parseNumber(get('num_leaves') ?? '', `${name}.num_leaves`);
  if (!Number.isInteger(numLeaves) || numLeaves < 1) {
    throw new ModelFormatError(`${name}.num_leaves`, `expected a positive integer, got ${numLeaves}`);
  }
  if ((get('num_cat') ?? '0').trim() !== '0') {
    throw new ModelFormatError(`${name}.num_cat`, 'categorical splits are not supported');
  }
  if ((get('is_linear') ?? '0').trim() !== '0') {
    throw new ModelFormatError(`${name}.is_linear`, 'linear trees are not supported');
  }
  const nodes = numLeaves - 1;
  const arr = (key: string, n: number, optional = false): number[] => {
    if (optional && get(key) === undefined) return new Array<number>(n).fill(0);
    return parseArray(get(key), n, `${name}.${key}`);
  };
  const splitFeature = arr('split_feature', nodes);
  const decisionType = nodes > 0 ? arr('decision_type', nodes) : [];
  const left = arr('left_child', nodes);
  const right = arr('right_child', nodes);
  for (let i = 0; i < nodes; i++) {
    const f = splitFeature[i] as number;
    if (!Number.isInteger(f) || f < 0 || f > maxFeatureIdx) {
      throw new ModelFormatError(`${name}.split_feature[${i}]`, `feature ${f} outside [0, ${maxFeatureIdx}]`);
    }
    if (((decisionType[i] as number) & DECISION_CATEGORICAL_MASK) !== 0) {
      throw new ModelFormatError(`${name}.decision_type[${i}]`, 'categorical splits are not supported');
    }
    for (const [side, child] of [
      ['left_child', left[i] as number],
      ['right_child', right[i] as number],
    ] as const) {
      const ok = Number.isInteger(child) && (child >= 0 ? child < nodes && child > i : ~child < numLeaves);
      if (!ok) throw new ModelFormatError(`${name}.${side}[${i}]`, `child ${child} is not a valid node or leaf`);
    }
  }
  return {
    numLeaves,
    splitFeature: Int32Array.from(splitFeature),
    splitGain: Float64Array.from(arr('split_gain', nodes, true)),
    threshold: Float64Array.from(arr('threshold', nodes)),
    decisionType: Uint8Array.from(decisionType),
    leftChild: Int32Array.from(left),
    rightChild: Int32Array.from(right),
    leafValue: Float64Array.from(arr('leaf_value', numLeaves)),
    leafWeight: Float64Array.from(arr('leaf_weight', numLeaves, true)),
    leafCount: Float64Array.from(arr('leaf_count', numLeaves, true)),
    internalValue: Float64Array.from(arr('internal_value', nodes, true)),
    internalWeight: Float64Array.from(arr('internal_weight', nodes, true)),
    internalCount: Float64Array.from(arr('internal_count', nodes, true)),
    shrinkage: get('shrinkage') === undefined ? 1 : parseNumber(get('shrinkage') ?? '', `${name}.shrinkage`),
  };
}

/** Most features a model may declare (`max_feature_idx` + 1); kzr's filter has 117. */
export const maxModelFeatures = 1_000_000;

/**
 * Parses a LightGBM `model.txt`. Throws {@link ModelFormatError} naming the first malformed
 * field; multiclass, categorical and linear-tree models are rejected.
 */
export function parseModel(text: string): Booster {
  const lines = text.split(/\r?\n/);
  let i = 0;
  if ((lines[0] ?? '').trim() !== 'tree') throw new ModelFormatError('line 1', 'expected "tree"');
  const header = new Map<string, string>();
  for (i = 1; i < lines.length && !(lines[i] as string).startsWith('Tree='); i++) {
    const line = lines[i] as string;
    if (line === 'end of trees') break;
    const eq = line.indexOf('=');
    if (eq > 0) header.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const numClass = header.get('num_class') ?? '1';
  if (numClass !== '1') throw new ModelFormatError('num_class', `only binary models are supported, got ${numClass}`);
  const objective = header.get('objective') ?? '';
  const objectiveParts = objective.trim().split(/\s+/);
  if (objectiveParts[0] !== 'binary') {
    throw new ModelFormatError('objective', `only "binary" is supported, got ${JSON.stringify(objective)}`);
  }
  let sigmoid = 1;
  for (const part of objectiveParts.slice(1)) {
    if (part.startsWith('sigmoid:')) sigmoid = parseNumber(part.slice('sigmoid:'.length), 'objective.sigmoid');
  }
  // NaN or a non-positive slope would turn every score into NaN or a constant.
  if (!(Number.isFinite(sigmoid) && sigmoid > 0)) {
    throw new ModelFormatError('objective.sigmoid', `expected a finite number > 0, got ${sigmoid}`);
  }
  const maxFeatureIdx = parseNumber(header.get('max_feature_idx') ?? '', 'max_feature_idx');
  if (!Number.isInteger(maxFeatureIdx) || maxFeatureIdx < 0 || maxFeatureIdx >= maxModelFeatures) {
    // Checked before anything is sized by it: a declared 10^15 would otherwise fill the heap.
    throw new ModelFormatError(
      'max_feature_idx',
      `expected an integer in [0, ${maxModelFeatures - 1}], got ${header.get('max_feature_idx') ?? ''}`,
    );
  }
  const splitList = (value: string | undefined): string[] =>
    value === undefined || value.trim() === '' ? [] : value.trim().split(/\s+/);
  const featureNames = splitList(header.get('feature_names'));
  if (featureNames.length === 0) {
    for (let f = 0; f <= maxFeatureIdx; f++) featureNames.push(`Column_${f}`);
  }
  if (featureNames.length !== maxFeatureIdx + 1) {
    throw new ModelFormatError('feature_names', `expected ${maxFeatureIdx + 1} names, found ${featureNames.length}`);
  }
  const featureInfos = splitList(header.get('feature_infos'));

  const trees: Tree[] = [];
  while (i < lines.length && (lines[i] as string).startsWith('Tree=')) {
    const name = (lines[i] as string).trim();
    if (name !== `Tree=${trees.length}`) throw new ModelFormatError(name, `expected Tree=${trees.length}`);
    const fields = new Map<string, string>();
    for (i++; i < lines.length && (lines[i] as string).trim() !== ''; i++) {
      const line = lines[i] as string;
      const eq = line.indexOf('=');
      if (eq <= 0)
        throw new ModelFormatError(`${name} line ${i + 1}`, `expected key=value, got ${JSON.stringify(line)}`);
      fields.set(line.slice(0, eq), line.slice(eq + 1));
    }
    trees.push(parseTree(fields, name, maxFeatureIdx));
    while (i < lines.length && (lines[i] as string).trim() === '') i++;
  }
  if (i >= lines.length || (lines[i] as string).trim() !== 'end of trees') {
    throw new ModelFormatError(`line ${i + 1}`, 'expected "end of trees"');
  }
  if (header.has('tree_sizes') && splitList(header.get('tree_sizes')).length !== trees.length) {
    throw new ModelFormatError(
      'tree_sizes',
      `lists ${splitList(header.get('tree_sizes')).length} trees, found ${trees.length}`,
    );
  }
  const parameters: Array<[string, string]> = [];
  const start = lines.indexOf('parameters:', i);
  if (start >= 0) {
    for (let p = start + 1; p < lines.length && lines[p] !== 'end of parameters'; p++) {
      const match = /^\[([^:\]]+): ?(.*)\]$/.exec(lines[p] as string);
      if (match) parameters.push([match[1] as string, match[2] as string]);
    }
  }
  return { maxFeatureIdx, objective: objective.trim(), sigmoid, featureNames, featureInfos, trees, parameters };
}

/** Formats a number so that LightGBM parses it back to the same double (`inf`, `-inf`, `nan` literal). */
export function formatNumber(value: number): string {
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Number.isNaN(value)) return 'nan';
  return String(value);
}

const join = (values: ArrayLike<number>): string => Array.from(values, formatNumber).join(' ');

/** One `Tree=` block exactly as LightGBM's `Tree::ToString` plus the trailing newline GBDT adds. */
function formatTree(tree: Tree, index: number): string {
  return (
    `Tree=${index}\n` +
    `num_leaves=${tree.numLeaves}\n` +
    `num_cat=0\n` +
    `split_feature=${join(tree.splitFeature)}\n` +
    `split_gain=${join(tree.splitGain)}\n` +
    `threshold=${join(tree.threshold)}\n` +
    `decision_type=${join(tree.decisionType)}\n` +
    `left_child=${join(tree.leftChild)}\n` +
    `right_child=${join(tree.rightChild)}\n` +
    `leaf_value=${join(tree.leafValue)}\n` +
    `leaf_weight=${join(tree.leafWeight)}\n` +
    `leaf_count=${join(tree.leafCount)}\n` +
    `internal_value=${join(tree.internalValue)}\n` +
    `internal_weight=${join(tree.internalWeight)}\n` +
    `internal_count=${join(tree.internalCount)}\n` +
    `is_linear=0\n` +
    `shrinkage=${formatNumber(tree.shrinkage)}\n` +
    `\n\n`
  );
}

/** Split counts per feature, in LightGBM's `feature_importances:` order (count desc, stable). */
export function featureImportance(booster: Booster): Array<{ feature: string; splits: number }> {
  const counts = new Array<number>(booster.maxFeatureIdx + 1).fill(0);
  for (const tree of booster.trees) for (const f of tree.splitFeature) counts[f] = (counts[f] as number) + 1;
  return counts
    .map((splits, f) => ({ feature: booster.featureNames[f] ?? `Column_${f}`, splits }))
    .filter((entry) => entry.splits > 0)
    .sort((a, b) => b.splits - a.splits);
}

/** Options of {@link formatModel}. */
export interface FormatModelOptions {
  /** Write only the first N trees (the best iteration). @default all trees */
  readonly numTrees?: number;
}

/**
 * Writes a booster as LightGBM 4 writes `model.txt`: header keys in LightGBM's order,
 * `tree_sizes` as the byte length of each tree block, the tree blocks, feature importances and
 * the `parameters:` section.
 */
export function formatModel(booster: Booster, options: FormatModelOptions = {}): string {
  const n = Math.min(options.numTrees ?? booster.trees.length, booster.trees.length);
  const encoder = new TextEncoder();
  const blocks = booster.trees.slice(0, n).map((tree, t) => formatTree(tree, t));
  const infos =
    booster.featureInfos.length === booster.maxFeatureIdx + 1
      ? booster.featureInfos
      : new Array<string>(booster.maxFeatureIdx + 1).fill('none');
  let out =
    'tree\n' +
    'version=v4\n' +
    'num_class=1\n' +
    'num_tree_per_iteration=1\n' +
    'label_index=0\n' +
    `max_feature_idx=${booster.maxFeatureIdx}\n` +
    `objective=${booster.objective}\n` +
    `feature_names=${booster.featureNames.join(' ')}\n` +
    `feature_infos=${infos.join(' ')}\n` +
    `tree_sizes=${blocks.map((block) => encoder.encode(block).length).join(' ')}\n` +
    '\n' +
    blocks.join('') +
    'end of trees\n' +
    '\nfeature_importances:\n';
  const truncated: Booster = { ...booster, trees: booster.trees.slice(0, n) };
  for (const { feature, splits } of featureImportance(truncated)) out += `${feature}=${splits}\n`;
  if (booster.parameters.length > 0) {
    out += '\nparameters:\n';
    for (const [key, value] of booster.parameters) out += `[${key}: ${value}]\n`;
    out += '\nend of parameters\n';
  }
  out += '\npandas_categorical:null\n';
  return out;
}
