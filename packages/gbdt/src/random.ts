/**
 * LightGBM's pseudo-random generator (`utils/random.h`): a 32-bit linear congruential generator
 * with the MSVC constants. kzr uses it where LightGBM does (bagging, feature sampling, the bin
 * sample, the sub-seeds of `seed`), so a seed means the same kind of thing in both. It is on
 * purpose not core's xoshiro128** `Rng`: LightGBM parity needs LightGBM's own sequence, and the
 * training shards skip ahead in it ({@link lcgSkip}).
 */
export class LgbRandom {
  private x: number;

  /** The generator's state (the last 32-bit value drawn, or the seed). */
  get state(): number {
    return this.x;
  }

  /** Advances the generator as if `n` values were drawn (in O(log n)). */
  skip(n: number): void {
    this.x = lcgSkip(this.x, n);
  }

  constructor(seed: number) {
    this.x = seed >>> 0;
  }

  private next(): number {
    this.x = (Math.imul(214013, this.x) + 2531011) >>> 0;
    return this.x;
  }

  /** An integer in [lower, upper) from 15 random bits (LightGBM `NextShort`). */
  nextShort(lower: number, upper: number): number {
    return (((this.next() >>> 16) & 0x7fff) % (upper - lower)) + lower;
  }

  /** An integer in [lower, upper) from 31 random bits (LightGBM `NextInt`). */
  nextInt(lower: number, upper: number): number {
    return ((this.next() & 0x7fffffff) % (upper - lower)) + lower;
  }

  /** A float in [0, 1) with 15 bits of resolution (LightGBM `NextFloat`). */
  nextFloat(): number {
    return ((this.next() >>> 16) & 0x7fff) / 32768;
  }

  /** A double in [0, 1) with 30 bits of resolution (two draws; kzr's addition for the search). */
  nextDouble(): number {
    const hi = (this.next() >>> 16) & 0x7fff;
    const lo = (this.next() >>> 16) & 0x7fff;
    return (hi * 32768 + lo) / 1073741824;
  }

  /** K distinct sorted indices from [0, N), as LightGBM's `Random::Sample`. */
  sample(n: number, k: number): number[] {
    const out: number[] = [];
    if (k > n || k <= 0) return out;
    if (k === n) {
      for (let i = 0; i < n; i++) out.push(i);
      return out;
    }
    if (k > 1 && k > n / Math.log2(k)) {
      for (let i = 0; i < n; i++) {
        const prob = (k - out.length) / (n - i);
        if (this.nextFloat() < prob) out.push(i);
      }
      return out;
    }
    const minStep = 1;
    const avgStep = Math.floor(n / k);
    const maxStep = 2 * avgStep - minStep;
    let start = -1;
    for (let i = 0; i < k; i++) {
      start += this.nextShort(minStep, maxStep + 1);
      if (start >= n) break;
      out.push(start);
    }
    return out;
  }
}

/**
 * The state of LightGBM's generator `n` draws after `x` (composes the affine step x -> a*x + c
 * mod 2^32 by repeated squaring). Used by the training shards, which each draw their own rows'
 * bagging values from the same stream. No imports or nested functions: it is also worker source.
 */
export function lcgSkip(x: number, n: number): number {
  let a = 214013;
  let c = 2531011;
  let accA = 1;
  let accC = 0;
  let left = n;
  while (left > 0) {
    if (left % 2 === 1) {
      accA = Math.imul(accA, a);
      accC = (Math.imul(accC, a) + c) | 0;
    }
    c = (Math.imul(c, a) + c) | 0;
    a = Math.imul(a, a);
    left = Math.floor(left / 2);
  }
  return (Math.imul(accA, x | 0) + accC) >>> 0;
}
