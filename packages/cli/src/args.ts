/**
 * Argument parsing, help and output shared by the commands. Each command declares its flags once,
 * in a {@link CommandUsage} (its `<name>.usage.ts` module, loaded without the command's heavy
 * dependencies); {@link parseCommand} parses with exactly those flags and {@link formatHelp}
 * prints them, so help and parser cannot drift. A command throws a {@link UsageError} for bad
 * input; `main` prints its message and exits 2.
 */
import { parseArgs } from 'node:util';

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

/** One flag of a command, as its parser takes it and its help shows it. */
export interface FlagUsage {
  readonly type: 'string' | 'boolean';
  /** The flag may be given more than once; the command gets every value. */
  readonly multiple?: boolean;
  /** Placeholder of the value in help (`<train.csv>`); string flags only. @default `<value>` */
  readonly value?: string;
  readonly description: string;
  /**
   * What the command does without the flag, as help shows it: a value (`5`), a phrase (`every
   * core`), or `required` (`required unless --preview`). Boolean flags without one are off. The
   * command itself applies it.
   */
  readonly default?: string;
}

/** What a command accepts: its flags, its positional arguments, and one example. */
export interface CommandUsage {
  /** Positional arguments as help shows them (`<in> <out.png>`); absent when there are none. */
  readonly positionals?: string;
  readonly flags: Readonly<Record<string, FlagUsage>>;
  /** The arguments after `kzr <command>` of one working call. */
  readonly example: string;
}

/** Parsed flags (by long name) and positional arguments. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;
  readonly positionals: readonly string[];
}

/** Edit distance of two flag names (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/** `unknown option --x`, naming the nearest known flag (or all of them when none is near). */
function unknownFlag(name: string, known: readonly string[]): UsageError {
  const nearest = known
    .map((flag) => ({ flag, d: distance(name, flag) }))
    .sort((a, b) => a.d - b.d || a.flag.localeCompare(b.flag))[0];
  const hint =
    known.length === 0
      ? 'this command takes no options'
      : nearest && nearest.d <= Math.max(2, Math.floor(name.length / 3))
        ? `did you mean --${nearest.flag}?`
        : `known options: ${known.map((f) => `--${f}`).join(', ')}`;
  return new UsageError(`--${name}`, `unknown option; ${hint}`);
}

/**
 * Parses a command's arguments with exactly the flags of its usage. An unknown flag names the
 * nearest known one; a missing value or a stray positional argument is a {@link UsageError}.
 */
export function parseCommand(usage: CommandUsage, args: readonly string[]): ParsedArgs {
  const known = Object.keys(usage.flags);
  for (const arg of args) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=', 1)[0]!;
    if (!Object.hasOwn(usage.flags, name)) throw unknownFlag(name, known);
  }
  const options = Object.fromEntries(
    Object.entries(usage.flags).map(([name, flag]) => [name, { type: flag.type, multiple: flag.multiple === true }]),
  );
  try {
    return parseArgs({
      args: joinNegativeValues(usage, args),
      options,
      allowPositionals: usage.positionals !== undefined,
      strict: true,
    });
  } catch (err) {
    // Node's messages run over several lines ("ambiguous" values); the first says what is wrong.
    throw new UsageError('arguments', ((err as Error).message.split('\n')[0] ?? '').trim());
  }
}

/**
 * `--seed -1` as `--seed=-1`: node's parser takes a value starting with `-` for an option and
 * refuses it as ambiguous; a negative number after a string flag can only be its value. The
 * command's own check then says whether the number is allowed.
 */
function joinNegativeValues(usage: CommandUsage, args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && usage.flags[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Help of one command: usage line, summary, every flag with its default, one example. */
export function formatHelp(name: string, summary: string, usage: CommandUsage): string {
  const flags = Object.entries(usage.flags);
  const left = flags.map(([flag, f]) => `--${flag}${f.type === 'string' ? ` ${f.value ?? '<value>'}` : ''}`);
  const width = Math.max(0, ...left.map((l) => l.length));
  const lines = flags.map(([, f], i) => {
    const defaults = f.default ?? (f.type === 'boolean' ? 'off' : undefined);
    const shown = defaults === undefined || defaults.startsWith('required') ? defaults : `default: ${defaults}`;
    const notes = [f.multiple ? 'repeatable' : undefined, shown].filter(Boolean).join('; ');
    return `  ${left[i]!.padEnd(width)}  ${f.description}${notes ? ` (${notes})` : ''}`;
  });
  return [
    `usage: kzr ${name}${flags.length > 0 ? ' [options]' : ''}${usage.positionals ? ` ${usage.positionals}` : ''}`,
    '',
    summary,
    '',
    ...(flags.length > 0 ? ['options:', ...lines, ''] : []),
    'example:',
    `  kzr ${name} ${usage.example}`,
    '',
  ].join('\n');
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
