/**
 * Typed readers of environment variables. Unset or blank gives `undefined`; a value that does
 * not parse throws a {@link ConfigError} naming the variable and what it expects. Config modules
 * call these once at start and freeze the result.
 */
import { ConfigError } from './errors.js';

/** The environment a config is compiled from; `process.env` in production. */
export type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** A string; blank counts as unset. */
export function readString(env: Env, name: string): string | undefined {
  return raw(env, name);
}

/** An integer within [min, max]. */
export function readInt(env: Env, name: string, min: number, max: number): number | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, value, `an integer in [${min}, ${max}]`);
  }
  return parsed;
}

/** A boolean: `true`/`false`, `1`/`0`, `yes`/`no` (any case). */
export function readBool(env: Env, name: string): boolean | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  throw new ConfigError(name, value, 'true or false');
}

/** One of a fixed set of strings. */
export function readChoice<const T extends string>(env: Env, name: string, choices: readonly T[]): T | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(name, value, `one of ${choices.join(', ')}`);
  }
  return value as T;
}

/** A byte size: a plain integer or one with a KiB/MiB/GiB suffix (`64MiB`). */
export function readBytes(env: Env, name: string, min: number, max: number): number | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const match = /^(\d+)\s*(B|KiB|MiB|GiB)?$/.exec(value);
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[match?.[2] ?? 'B'] ?? 1;
  const bytes = match ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < min || bytes > max) {
    throw new ConfigError(name, value, `a size in bytes (optionally KiB, MiB or GiB) in [${min}, ${max}]`);
  }
  return bytes;
}

/**
 * A comma-separated list of URLs, each with one of `protocols` (without the colon). An entry
 * without a scheme (`host:port`) is accepted only when `assume` names the protocol it takes.
 * Entries are returned as written.
 */
export function readUrls(env: Env, name: string, protocols: readonly string[], assume?: string): string[] | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const expected = `URLs (${protocols.map((p) => `${p}://host:port`).join(' or ')}), comma-separated`;
  if (entries.length === 0) throw new ConfigError(name, value, expected);
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry.includes('://') || assume === undefined ? entry : `${assume}://${entry}`);
    } catch {
      url = undefined;
    }
    if (!url || !protocols.includes(url.protocol.slice(0, -1)) || url.hostname === '') {
      throw new ConfigError(name, value, expected);
    }
  }
  return entries;
}

/** One URL with one of `protocols` (see {@link readUrls}). */
export function readUrl(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const urls = readUrls(env, name, protocols);
  if (urls && urls.length > 1) {
    throw new ConfigError(name, raw(env, name) ?? '', `one URL (${protocols.map((p) => `${p}://`).join(' or ')})`);
  }
  return urls?.[0];
}
