// Fuzzing as a habit (issue 22, item 5): every parser of outside input, a few hundred fast-check
// cases each (random and mutated samples). A parser returns or throws a clear kzr error, within a
// second; never a TypeError, a RangeError or an internal error. `bench/fuzz` runs 10,000 each.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { fuzzedParsers, runCase } from './helpers/parser-fuzz.js';

/** Every failure fuzzing found, replayed first: the shrunk counterexample fast-check printed. */
const regressions: ReadonlyArray<{ parser: string; input: unknown }> = [
  // A null list item passed the proto check (null = absent) and crashed fromWire with a TypeError.
  {
    parser: 'prediction JSON',
    input: [{ pageId: 'p1', pageWidth: 100, pageHeight: 80, detectionSet: 'det', characters: [null] }],
  },
];

describe('parsers under fuzz', () => {
  for (const parser of fuzzedParsers()) {
    it(`${parser.name}: returns or throws a clear error, quickly`, () => {
      const check = (input: unknown): void => {
        const { outcome, error } = runCase(parser, input);
        assert.ok(outcome === 'accepted' || outcome === 'clear-error', `${outcome}: ${String(error)}`);
      };
      for (const r of regressions.filter((r) => r.parser === parser.name)) check(r.input);
      fc.assert(fc.property(parser.inputs, check), { numRuns: 150 });
    });
  }
});
