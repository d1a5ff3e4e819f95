/** Shared setup of the CLI tests: run the real `kzr` binary in a child process, make temp dirs. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the CLI runs with it as its working directory). */
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

const kzrBin = fileURLToPath(new URL('../bin/kzr.js', import.meta.url));

/** What a `kzr` run left: its exit code (1 when it ended without one) and output. */
export interface KzrResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kzr <args>` from the repository root, `env` added to this process's environment. */
export function runKzr(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<KzrResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // The bin's own condition (its shebang's): without it, a current build would start kzr twice.
      ['--conditions=production', kzrBin, ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** A fresh temp directory, removed after the test. */
export async function tempDir(t: { after: (fn: () => Promise<void>) => void }, prefix = 'kzr-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
