/**
 * Argument parsing and output shared by the commands. A command throws a {@link UsageError}
 * for bad input; `main` prints its message and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { InvalidArgumentError } from '@kzr/core';

/**
 * Bad command-line input; `field` names the flag or argument (for example `--seed`). Core's
 * error, not platform's: every command loads args.ts, and `@kzr/platform` would cost each start
 * its gRPC, NATS and S3 clients.
 */
export class UsageError extends InvalidArgumentError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags (by long name) and positional arguments. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;
  readonly positionals: readonly string[];
}

/** Parses flags strictly; unknown flags or missing values become a {@link UsageError}. */
export function parseCommandArgs(args: string[], options: Options, allowPositionals = false): ParsedArgs {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError('arguments', (err as Error).message);
  }
}

/** Reads a required string flag. */
export function requireFlag(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name}`, 'is required');
  return value;
}

/** Reads an integer flag within [min, max], or the fallback when absent. */
export function intFlag(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = values[name];
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (typeof value !== 'string' || !/^-?\d+$/.test(value) || parsed < min || parsed > max) {
    throw new UsageError(`--${name}`, `expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** Prints one JSON document on stdout (commands print results as JSON). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
