/**
 * The logs of local phase Jobs: the local JobRunner writes each Job's output to
 * `<logDir>/<job>.log` ({@link jobLogFile}; `kzr run logs` prints one). `kzr run start --watch`
 * follows those files and prints the JSON lines `kzr phase run` writes (`progress`, `done`,
 * `cache-hit`), leaving out log lines (stderr).
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';

import { phaseJobName } from '@kzr/trainer';

import { printJson } from '../args.js';

/** Followed logs; `close` reads what is left and stops. */
export interface JobLogFollower {
  add(phase: string, attempt: number, run: string): void;
  close(): Promise<void>;
}

/** Follows the logs of the Jobs {@link JobLogFollower.add} names, every 200 ms. */
export function followJobLogs(logDir: string): JobLogFollower {
  const files = new Map<string, { offset: number; rest: string }>();
  let reading: Promise<void> = Promise.resolve();
  const readAll = async (): Promise<void> => {
    for (const [path, f] of files) {
      const handle = await open(path, 'r').catch(() => undefined);
      if (handle === undefined) continue;
      try {
        const buffer = Buffer.alloc(1 << 16);
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, f.offset);
          if (bytesRead === 0) break;
          f.offset += bytesRead;
          const lines = (f.rest + buffer.toString('utf8', 0, bytesRead)).split('\n');
          f.rest = lines.pop() ?? '';
          for (const line of lines) {
            try {
              const value: unknown = JSON.parse(line);
              if (typeof value === 'object' && value !== null && 'type' in value) printJson(value);
            } catch {
              // not one of phase run's lines
            }
          }
        }
      } finally {
        await handle.close();
      }
    }
  };
  const timer = setInterval(() => {
    reading = reading.then(readAll).catch(() => undefined);
  }, 200);
  let closed: Promise<void> | undefined;
  return {
    add(phase, attempt, run) {
      files.set(jobLogFile(logDir, run, phase, attempt), { offset: 0, rest: '' });
    },
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        await reading;
        await readAll().catch(() => undefined);
      })();
      return closed;
    },
  };
}

/** The log file the local JobRunner writes for an attempt of a phase (`<logDir>/<job>.log`). */
export function jobLogFile(logDir: string, run: string, phase: string, attempt: number): string {
  return join(logDir, `${phaseJobName(run, phase, attempt)}.log`);
}
