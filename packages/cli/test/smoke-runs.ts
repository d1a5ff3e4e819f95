/** Shared by the smoke run tests: `kzr run start --preset smoke` in a data dir, and what it published. */
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { readModelSetManifest } from '@kzr/artifacts';
import { FsStore, type Store } from '@kzr/platform';

import { runKzr } from './kzr-cli.js';

/**
 * The budget is 60 s per smoke run on 2 cores; the limit leaves room for a loaded
 * machine (run-tests.sh's --test-timeout still bounds each file).
 */
export const smokeTimeout = 600_000;

/** One line `kzr run start` printed. */
export interface Line {
  readonly type: string;
  readonly phase?: string;
  readonly status?: string;
  readonly cacheHit?: boolean;
  readonly cacheHits?: number;
  readonly ran?: number;
  readonly seconds?: number;
  /** The `run` line's phases by id. */
  readonly phases?: Readonly<Record<string, unknown>>;
}

/** Runs `kzr run start --preset smoke --run <run>` on `dataDir`; asserts it succeeded, returns its lines and wall time. */
export async function smoke(dataDir: string, run: string): Promise<{ lines: Line[]; seconds: number }> {
  const started = performance.now();
  const res = await runKzr(['run', 'start', '--preset', 'smoke', '--run', run], { KZR_DATA_DIR: dataDir });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(res.code, 0, res.stderr.slice(-4000));
  return {
    lines: res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line),
    seconds,
  };
}

/** The sha256 of each member's files of the model set a run published (version = the run), in `store`. */
export async function modelSetMemberHashes(store: Store, version: string): Promise<string[][]> {
  const manifest = await readModelSetManifest(store, 'smoke', version);
  return manifest.members.map((m) =>
    m.kind === 'kzr' ? [m.name, m.weights.sha256, m.classMap.sha256] : [m.name, m.onnx.sha256, m.classMap.sha256],
  );
}

/** {@link modelSetMemberHashes} in the filesystem Store of `dataDir`. */
export async function memberHashes(dataDir: string, version: string): Promise<string[][]> {
  const store = await FsStore.open({ root: join(dataDir, 'store') });
  try {
    return await modelSetMemberHashes(store, version);
  } finally {
    await store.close();
  }
}
