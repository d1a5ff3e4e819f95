/** Child processes for tests: read a line of output, wait for the exit. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Resolves with the first stdout line that parses as a JSON object; rejects if the process exits first. */
export async function firstJsonLine(child: ChildProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  if (!child.stdout) throw new Error('the child has no stdout pipe');
  const lines = createInterface({ input: child.stdout });
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for await (const line of lines) {
      signal.throwIfAborted();
      if (line.trimStart().startsWith('{')) return JSON.parse(line) as Record<string, unknown>;
    }
  } finally {
    lines.close();
  }
  throw new Error(`the process ended (exit ${child.exitCode}) before printing a JSON line`);
}

/** Waits for the child to exit, at most `timeoutMs`; resolves with its exit code and signal. */
export async function waitForExit(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit', { signal: AbortSignal.timeout(timeoutMs) })) as [
    number | null,
    NodeJS.Signals | null,
  ];
  return { code, signal };
}
