/**
 * Shared setup of the trainer's tests: a data dir with a filesystem Store holding a one-page
 * stand-in dataset `d1`, small run specs, and the phase Job command: the CLI's compiled phase
 * fixture (`packages/cli/dist/test/phase-fixture.js`, what `npm run build` writes), the real
 * phase entrypoint with bodies that take a second, so a whole run takes seconds.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { datasetLabelsKey, datasetPageKey } from '@kzr/artifacts';
import { FsStore } from '@kzr/platform';

import { repoRoot } from '../src/paths.js';

/** The stand-in `kzr phase run` every test Job runs. */
export const phaseFixture = join(repoRoot, 'packages', 'cli', 'dist', 'test', 'phase-fixture.js');

/** `KZR_TRAINER_JOB_COMMAND` for the fixture. */
export const fixtureCommand = JSON.stringify([process.execPath, '--conditions=production', phaseFixture]);

/** A data dir and its Store with the dataset `d1`. */
export interface TrainerBench {
  readonly dataDir: string;
  readonly store: FsStore;
  close(): Promise<void>;
}

/** Opens a fresh data dir with a stored dataset `d1` (one page, its labels). */
export async function openBench(): Promise<TrainerBench> {
  assert.ok(existsSync(phaseFixture), `${phaseFixture} is missing: npm run build`);
  const dataDir = await mkdtemp(join(tmpdir(), 'kzr-trainer-'));
  const store = await FsStore.open({ root: join(dataDir, 'store') });
  await store.put(datasetPageKey('d1', '900000001_001', '.jpg'), Buffer.from('page'));
  await store.put(datasetLabelsKey('d1'), Buffer.from('image_id,labels\n900000001_001,U+3042 1 2 3 4\n'));
  return {
    dataDir,
    store,
    close: async () => {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A one-model spec as `spec_json` on dataset `d1`; `seed` keeps its phases' cache entries its
 * own; `execution` is added to one retry.
 */
export function benchSpecJson(seed: number, execution: Readonly<Record<string, unknown>> = {}): string {
  return JSON.stringify({
    schemaVersion: 1,
    dataset: { name: 'd1' },
    models: [{ name: 'm1', config: { seed }, split: 'a' }],
    split: { seed, splits: [{ name: 'a', valBook: '900000002' }], testBooks: ['900000003'] },
    execution: { retryLimit: 1, ...execution },
  });
}

/** Waits until `check` holds, every 100 ms. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
