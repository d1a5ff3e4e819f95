/**
 * Shared setup of the run controller's tests: a filesystem Store in a temp data dir, a stored
 * stand-in dataset, run specs with inline model configurations, and {@link drive}, which creates
 * a run and drives it with the real controller and LocalJobRunner, each phase a child process of
 * `dist/test/phase-fixture.js` (`npm run build` writes it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { datasetDigest, datasetLabelsKey, datasetPageKey } from '@kzr/artifacts';
import { parseRunSpec, type RunSpec, type RunState } from '@kzr/pipeline';
import { createLogger, FsStore, LocalJobRunner, type Store } from '@kzr/platform';
import { createRun, driveRun, type PhaseLine } from '@kzr/trainer';

const fixture = fileURLToPath(new URL('../dist/test/phase-fixture.js', import.meta.url));

/** A data dir with its Store and the stand-in dataset `d1`. */
export interface RunBench {
  readonly dataDir: string;
  readonly store: Store;
  readonly digest: string;
  close(): Promise<void>;
}

/** Opens a fresh data dir with a stored dataset `d1` (one page, its labels). */
export async function openBench(): Promise<RunBench> {
  assert.ok(existsSync(fixture), `${fixture} is missing: npm run build`);
  const dataDir = await mkdtemp(join(tmpdir(), 'kzr-runs-'));
  const store = await FsStore.open({ root: join(dataDir, 'store') });
  await store.put(datasetPageKey('d1', '900000001_001', '.jpg'), Buffer.from('page'));
  await store.put(datasetLabelsKey('d1'), Buffer.from('image_id,labels\n900000001_001,U+3042 1 2 3 4\n'));
  const digest = await datasetDigest(store, 'd1');
  return {
    dataDir,
    store,
    digest,
    close: async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A spec of `models` models (`m1`, `m2`, ...), each configuration `{ seed }` plus `configs[i]`;
 * one retry; `execution` added.
 */
export function benchSpec(
  models: number,
  configs: ReadonlyArray<Record<string, unknown>> = [],
  execution: Readonly<Record<string, unknown>> = {},
): RunSpec {
  return parseRunSpec({
    schemaVersion: 1,
    dataset: { name: 'd1' },
    models: Array.from({ length: models }, (_, i) => ({
      name: `m${i + 1}`,
      config: { seed: i + 1, ...configs[i] },
      split: 'a',
    })),
    split: { seed: 1, splits: [{ name: 'a', valBook: '900000002' }], testBooks: ['900000003'] },
    execution: { retryLimit: 1, ...execution },
  });
}

/** What {@link drive} saw. */
export interface Driven {
  readonly state: RunState;
  readonly lines: PhaseLine[];
  readonly seconds: number;
  /** Jobs the runner started, by name. */
  readonly jobs: string[];
}

/** Creates run `run` with `spec` on the bench's dataset. */
export async function createBenchRun(bench: RunBench, run: string, spec: RunSpec): Promise<void> {
  await createRun(bench.store, run, spec, { name: 'd1', digest: bench.digest, synthetic: undefined });
}

/** Creates run `run` with `spec` on the bench's dataset (none: it exists) and drives it to its end. */
export async function drive(
  bench: RunBench,
  run: string,
  spec: RunSpec | undefined,
  env: Readonly<Record<string, string>> = {},
  signal?: AbortSignal,
): Promise<Driven> {
  if (spec !== undefined) await createBenchRun(bench, run, spec);
  const jobs = new LocalJobRunner({
    logDir: join(bench.dataDir, 'jobs'),
    baseEnv: { ...process.env, KZR_DATA_DIR: bench.dataDir, KZR_STORE: 'fs', KZR_BUS: 'memory', ...env },
  });
  const started = performance.now();
  const lines: PhaseLine[] = [];
  try {
    const { state } = await driveRun({
      store: bench.store,
      jobs,
      run,
      logger: createLogger({ level: 'warn' }),
      command: [process.execPath, '--conditions=production', fixture],
      pollMs: 100,
      ...(signal ? { signal } : {}),
      onPhase: (line) => {
        lines.push(line);
      },
    });
    const names = (await jobs.list({ 'kzr.io/run': run })).map((j) => j.name);
    return { state, lines, seconds: (performance.now() - started) / 1000, jobs: names };
  } finally {
    await jobs.close();
  }
}
