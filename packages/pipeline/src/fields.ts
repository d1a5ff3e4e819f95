/**
 * Strict readers of JSON fields for the run spec and the run record: each checks one value and
 * throws the caller's error naming the field (`spec.models[1].epochs: must be a positive
 * integer, got 0`). Objects reject keys they do not know, so a typo fails instead of being
 * silently ignored.
 */

/** Builds the error to throw for `field`. */
export type FieldError = (field: string, problem: string) => Error;

/** Names of models, splits, model sets and runs: one lower-case path segment (they become phase ids and Store keys). */
const namePattern = /^[a-z0-9][a-z0-9._-]*$/;
const maxNameLength = 64;
/** Book ids as the page ids carry them (digits, or letters then digits). */
const bookPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const sha256Pattern = /^[0-9a-f]{64}$/;

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** Reads fields of JSON input, throwing `fail(field, problem)` on the first bad one. */
export class FieldReader {
  readonly #fail: FieldError;

  constructor(fail: FieldError) {
    this.#fail = fail;
  }

  /** Throws for `field`. */
  fail(field: string, problem: string): never {
    throw this.#fail(field, problem);
  }

  /** A plain object whose keys are all in `known`. */
  object(field: string, value: unknown, known: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, `must be an object, got ${shown(value)}`);
    }
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.fail(`${field}.${key}`, `unknown field (known: ${known.join(', ')})`);
    }
    return value as Record<string, unknown>;
  }

  /** A plain object of any keys (an inline model configuration, a summary). */
  anyObject(field: string, value: unknown): Readonly<Record<string, unknown>> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, `must be an object, got ${shown(value)}`);
    }
    return value as Record<string, unknown>;
  }

  /** An array of `min..max` items. */
  array(field: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(field, `must be a list, got ${shown(value)}`);
    if (value.length < min || value.length > max) {
      this.fail(
        field,
        max === Number.MAX_SAFE_INTEGER ? `must hold at least ${min} items` : `must hold ${min} to ${max} items`,
      );
    }
    return value;
  }

  /** An integer in `[min, max]`. */
  int(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const want =
        min === 1 && max === Number.MAX_SAFE_INTEGER
          ? 'a positive integer'
          : max === Number.MAX_SAFE_INTEGER
            ? `an integer >= ${min}`
            : `an integer in [${min}, ${max}]`;
      this.fail(field, `must be ${want}, got ${shown(value)}`);
    }
    return value;
  }

  /** A finite number in `(min, max]` when `minExclusive`, else `[min, max]`. */
  number(field: string, value: unknown, min: number, max: number, minExclusive = false): number {
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value > max ||
      (minExclusive ? value <= min : value < min)
    ) {
      this.fail(field, `must be a number in ${minExclusive ? '(' : '['}${min}, ${max}], got ${shown(value)}`);
    }
    return value;
  }

  boolean(field: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${shown(value)}`);
    return value;
  }

  /** A non-empty string. */
  string(field: string, value: unknown): string {
    if (typeof value !== 'string' || value.length === 0)
      this.fail(field, `must be a non-empty string, got ${shown(value)}`);
    return value;
  }

  /** One of `choices`. */
  choice<T extends string>(field: string, value: unknown, choices: readonly T[]): T {
    if (!(choices as readonly unknown[]).includes(value)) {
      this.fail(field, `must be one of ${choices.join(', ')}, got ${shown(value)}`);
    }
    return value as T;
  }

  /** A name: lower-case letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 64 characters. */
  name(field: string, value: unknown): string {
    if (typeof value !== 'string' || value.length > maxNameLength || !namePattern.test(value)) {
      this.fail(
        field,
        `must be a name of at most ${maxNameLength} lower-case letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${shown(value)}`,
      );
    }
    return value;
  }

  /** A book id (`200015779`, `brsk`, `900000004`). */
  book(field: string, value: unknown): string {
    if (typeof value !== 'string' || value.length > maxNameLength || !bookPattern.test(value)) {
      this.fail(field, `must be a book id (letters, digits, '.', '_' or '-'), got ${shown(value)}`);
    }
    return value;
  }

  /** 64 lower-case hex digits. */
  sha256(field: string, value: unknown): string {
    if (typeof value !== 'string' || !sha256Pattern.test(value)) {
      this.fail(field, `must be a sha256 (64 lower-case hex digits), got ${shown(value)}`);
    }
    return value;
  }

  /** An RFC 3339 time. */
  time(field: string, value: unknown): string {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      this.fail(field, `must be an RFC 3339 time, got ${shown(value)}`);
    }
    return value;
  }
}
