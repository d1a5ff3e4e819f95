/** Child processes for tests: read a line of output, wait for the exit. */
import { type ChildProcess, spawn } from 'node:child_process';
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

/** What {@link runToExit} resolves with. */
export interface ExitReport {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Everything the process wrote to stderr. */
  readonly stderr: string;
}

/**
 * Runs a TypeScript entry point (a service's `main.ts`) under tsx with `env` added to this
 * process's environment, and waits for it to exit on its own, at most `timeoutMs` (then it is
 * killed and the wait rejects). For start-up failures: invalid config, a port in use.
 */
export async function runToExit(
  entry: string,
  options: { readonly env: Readonly<Record<string, string>>; readonly cwd?: string; readonly timeoutMs?: number },
): Promise<ExitReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, ...options.env },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const { code, signal } = await waitForExit(child, options.timeoutMs ?? 60_000);
    return { code, signal, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
