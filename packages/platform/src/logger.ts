/** A small structured logger: one JSON object per line on stderr (stdout carries results). */
import type { LogLevel } from './config.js';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/** Writes log lines at or above a level; `child` adds fields to every line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lowest level written. @default 'info' */
  level?: LogLevel;
  /** Where lines go. @default process.stderr */
  write?: (line: string) => void;
  /** Fields on every line, such as `service`. */
  fields?: LogFields;
}

/** Creates a {@link Logger}; errors in `fields` are written as their message and name. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const minimum = rank[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const base = options.fields ?? {};
  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (rank[level] < minimum) return;
    const line = { time: new Date().toISOString(), level, message, ...base, ...fields };
    write(
      `${JSON.stringify(line, (_key, value: unknown) => (value instanceof Error ? { name: value.name, message: value.message } : value))}\n`,
    );
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}
