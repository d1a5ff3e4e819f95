// Test helper: `kzr start` as a child process on its own data directory, serving what the test
// publishes (no main job) over the machine Bus it starts itself.
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The environment of a machine on `dataDir`: the wasm backend, no main job, no Bus or trainer from outside. */
export function machineEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KZR_DATA_DIR: dataDir,
    KZR_TF_BACKEND: 'wasm',
    KZR_START_RUN: 'none',
  };
  delete env['KZR_BUS'];
  delete env['KZR_NATS_URL'];
  delete env['KZR_TRAINER_URL'];
  return env;
}

/** Starts `kzr start` with `env` on free ports (stdout piped, stderr as `stderr` says); killed after the test. */
export function spawnStart(t: TestContext, env: NodeJS.ProcessEnv, stderr: 'ignore' | 'pipe'): ChildProcess {
  const child = spawn(process.execPath, ['packages/cli/bin/kzr.js', 'start'], {
    cwd: repoRoot,
    env: {
      ...env,
      KZR_PREPROCESS_PORT: '0',
      KZR_INFERENCE_PORT: '0',
      KZR_POSTPROCESS_PORT: '0',
      KZR_TRAINER_PORT: '0',
      KZR_HTTP_PORT: '0',
    },
    stdio: ['ignore', 'pipe', stderr],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}
