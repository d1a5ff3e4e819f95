/**
 * A small seeded pseudo-random generator: xoshiro128** (Blackman and Vigna), seeded through
 * splitmix32. Same seed, same sequence, on every platform; fast enough for sampling and
 * augmentation parameters; not for cryptography. Every random choice in kzr draws from one of
 * these, so runs are reproducible (upstream seeds nothing, spec §9.1 item 15). Its whole state
 * can be exported and restored, so a training checkpoint continues the exact sequence. The one
 * other generator in kzr is `@kzr/gbdt`'s copy of LightGBM's LCG, kept for LightGBM parity.
 */
import { InvalidArgumentError } from './errors.js';

/** A seeded source of random numbers. */
export interface Rng {
  /** The next 32-bit unsigned integer. */
  nextUint32(): number;
  /** A float in [0, 1) with 53 random bits. */
  next(): number;
  /** An integer in [0, n), unbiased; n a positive integer <= 2^32. */
  int(n: number): number;
  /** An integer in [min, max] inclusive. */
  intBetween(min: number, max: number): number;
  /** A float in [min, max). */
  uniform(min: number, max: number): number;
  /** A standard normal draw (Box-Muller). */
  normal(): number;
  /** Gamma(shape, 1), shape > 0 (Marsaglia and Tsang; shape < 1 boosted by U^(1/shape)). */
  gamma(shape: number): number;
  /** Beta(a, b), from two gamma draws (mixup's λ and ICAP's split points). */
  beta(a: number, b: number): number;
  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<A extends MutableArrayLike>(items: A): A;
  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** `k` distinct indices of [0, n), in the order drawn (partial Fisher-Yates). */
  sampleIndices(n: number, k: number): number[];
  /** An independent generator derived from this one's next outputs. */
  fork(): Rng;
  /** The whole state; {@link restoreRng} continues the same sequence from it. */
  state(): RngState;
}

/** An array or typed array that {@link Rng.shuffle} can permute in place. */
export interface MutableArrayLike {
  readonly length: number;
  [index: number]: unknown;
}

/**
 * The serialisable state of an {@link Rng} (plain JSON): the four xoshiro128** words and the
 * second normal of the last Box-Muller pair when it has not been drawn yet.
 */
export interface RngState {
  readonly words: readonly [number, number, number, number];
  readonly spareNormal?: number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string, 32 bits. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Folds a safe integer (or a string) into 32 bits; distinct small seeds stay distinct. */
function foldSeed(seed: number | string): number {
  if (typeof seed === 'string') return hashString(seed);
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError('seed', `expected a safe integer, got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  return (low ^ Math.imul(high, 0x9e3779b1)) >>> 0;
}

/**
 * Derives a seed from a base seed and labels, for independent streams: for example
 * `deriveSeed(seed, 'undersample', epoch)` gives each epoch its own draw.
 */
export function deriveSeed(seed: number | string, ...labels: ReadonlyArray<number | string>): number {
  let h = foldSeed(seed);
  for (const label of labels) {
    const next = splitmix32((h ^ foldSeed(label)) >>> 0);
    next();
    h = (next() ^ Math.imul(foldSeed(label) ^ 0x5bd1e995, 0x27d4eb2d)) >>> 0;
  }
  return h;
}

/** Creates a generator from a safe integer or a string seed. */
export function createRng(seed: number | string): Rng {
  const init = splitmix32(foldSeed(seed));
  const words: [number, number, number, number] = [init(), init(), init(), init()];
  if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
  return generator(words, undefined);
}

/**
 * Continues a generator from {@link Rng.state}, for example a training run resumed from a
 * checkpoint. Throws {@link InvalidArgumentError} on anything but four unsigned 32-bit words
 * (not all zero) and an optional finite spare normal.
 */
export function restoreRng(state: RngState): Rng {
  const { words, spareNormal } = state;
  if (
    !Array.isArray(words) ||
    words.length !== 4 ||
    !words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) ||
    words.every((w) => w === 0)
  ) {
    throw new InvalidArgumentError('state.words', 'expected four unsigned 32-bit integers, not all zero');
  }
  if (spareNormal !== undefined && !Number.isFinite(spareNormal)) {
    throw new InvalidArgumentError('state.spareNormal', `expected a finite number, got ${spareNormal}`);
  }
  return generator([words[0], words[1], words[2], words[3]], spareNormal);
}

function generator(words: readonly [number, number, number, number], spare: number | undefined): Rng {
  let [a, b, c, d] = words;
  let spareNormal = spare;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c = (c ^ t) >>> 0;
    d = rotl(d, 11);
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  const next = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new InvalidArgumentError('n', `expected an integer in [1, 2^32], got ${n}`);
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % n;
    }
  };
  const rng: Rng = {
    nextUint32,
    next,
    int,
    intBetween: (min, max) => min + int(max - min + 1),
    uniform: (min, max) => min + (max - min) * next(),
    normal(): number {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    gamma(shape: number): number {
      if (!(shape > 0)) throw new InvalidArgumentError('shape', `expected a number > 0, got ${shape}`);
      if (shape < 1) return rng.gamma(shape + 1) * Math.pow(1 - next(), 1 / shape);
      const dd = shape - 1 / 3;
      const cc = 1 / Math.sqrt(9 * dd);
      for (;;) {
        let x: number;
        let v: number;
        do {
          x = rng.normal();
          v = 1 + cc * x;
        } while (v <= 0);
        v = v * v * v;
        const u = 1 - next();
        if (Math.log(u) < 0.5 * x * x + dd - dd * v + dd * Math.log(v)) return dd * v;
      }
    },
    beta(alpha: number, beta: number): number {
      const x = rng.gamma(alpha);
      const y = rng.gamma(beta);
      // Both gammas can underflow to 0 for tiny shapes (an α near 0); 0.5 keeps the draw defined.
      return x + y === 0 ? 0.5 : x / (x + y);
    },
    shuffle<A extends MutableArrayLike>(items: A): A {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
      }
      return items;
    },
    permutation(n: number): Int32Array {
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('n', `expected an integer >= 0, got ${n}`);
      return rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    },
    sampleIndices(n: number, k: number): number[] {
      if (!Number.isInteger(k) || k < 0 || k > n)
        throw new InvalidArgumentError('k', `expected an integer in [0, ${n}], got ${k}`);
      // Partial Fisher-Yates over a sparse swap table: O(k) memory for small k out of a large n.
      const swapped = new Map<number, number>();
      const out: number[] = [];
      for (let i = 0; i < k; i++) {
        const j = i + int(n - i);
        const vi = swapped.get(i) ?? i;
        const vj = swapped.get(j) ?? j;
        swapped.set(j, vi);
        out.push(vj);
      }
      return out;
    },
    fork: () => createRng(nextUint32() * 2 ** 21 + (nextUint32() >>> 11)),
    state: () => ({ words: [a, b, c, d], ...(spareNormal === undefined ? {} : { spareNormal }) }),
  };
  return rng;
}
