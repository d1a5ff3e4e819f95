/**
 * The class map (spec §1.2): class index = position of the code in the *string sort* of all
 * codes, as upstream's `class_name_dict.pickle`. So `U+2000B` sorts before `U+3042` (the
 * character '2' < '3'), not by numeric code point.
 */
import { compareCodeStrings } from './books.js';
import { InvalidArgumentError } from './errors.js';

/** Codes <-> class indices, fixed at construction. */
export interface ClassMap {
  /** The codes in class-index order. */
  readonly codes: readonly string[];
  /** Number of classes. */
  readonly size: number;
  /** The index of a code, or `undefined` for a code outside the map. */
  indexOf(code: string): number | undefined;
  /** The index of a code; throws an {@link InvalidArgumentError} for a code outside the map. */
  requireIndex(code: string): number;
  /** The code of an index; throws for an index outside [0, size). */
  codeAt(index: number): string;
}

/** Builds the class map from any collection of codes (duplicates collapse). */
export function buildClassMap(codes: Iterable<string>): ClassMap {
  const sorted = [...new Set(codes)].sort(compareCodeStrings);
  const index = new Map(sorted.map((code, i) => [code, i] as const));
  return Object.freeze({
    codes: Object.freeze(sorted),
    size: sorted.length,
    indexOf: (code: string): number | undefined => index.get(code),
    requireIndex(code: string): number {
      const i = index.get(code);
      if (i === undefined) throw new InvalidArgumentError('code', `${code} is not one of the ${sorted.length} classes`);
      return i;
    },
    codeAt(i: number): string {
      const code = Number.isInteger(i) ? sorted[i] : undefined;
      if (code === undefined) throw new InvalidArgumentError('index', `${i} is outside [0, ${sorted.length})`);
      return code;
    },
  });
}
