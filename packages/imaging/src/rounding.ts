/** Python-compatible rounding, which the upstream geometry depends on (spec §9.2). */

/**
 * Rounds half to even, like Python 3 `round(x)` and numpy `rint`: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds halves up; fix the ties that landed on an odd number.
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}
