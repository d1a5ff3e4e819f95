/**
 * `kzr phase run` with the real phases, this test doing the controller's bookkeeping by hand:
 * a second call with the same inputs is a cache hit; a training killed mid-epoch leaves its
 * checkpoint and no failure report, and the next attempt with `--resume` continues after that
 * checkpoint (its summary and history say so) and completes the phase.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { readPhaseCacheEntry, readPhaseManifest, readRunRecord, writeRunRecord } from '@kzr/artifacts';
import { buildPhaseGraph, phaseInputHash, type RunEvent } from '@kzr/pipeline';
import { createLogger, FsStore, MemoryBus, type Store } from '@kzr/platform';
import { checkpointEpoch, createRun, loadRunSpec, readFailureReport } from '@kzr/trainer';

import { resolveRunDataset } from '../src/runs/run-setup.js';
import { repoRoot, runKzr, tempDir } from './kzr-cli.js';

const run = 'p1';
const train = 'first-train/tiny-resnet-gray32';

/** Records a phase completed from its cache entry, as the controller does after its Job. */
async function recordCompleted(store: Store, phase: string, attempt: number): Promise<void> {
  const record = await readRunRecord(store, run);
  const graph = buildPhaseGraph(record.spec);
  const node = graph.byId.get(phase)!;
  const events = [...record.events];
  const inputs: Record<string, string> = { ...(node.externalInputs.length > 0 ? record.external : {}) };
  for (const dep of node.dependsOn) {
    const done = events.findLast((e) => e.type === 'completed' && e.phase === dep);
    inputs[dep] = done?.type === 'completed' ? done.manifestSha256 : '';
  }
  const inputHash = phaseInputHash(record.spec, node, inputs);
  const entry = (await readPhaseCacheEntry(store, node.phase, inputHash))!;
  const at = new Date().toISOString();
  for (let a = 1; a <= attempt; a++) {
    events.push({ type: 'started', phase, attempt: a, inputHash, resume: a > 1, at });
    if (a < attempt) events.push({ type: 'failed', phase, attempt: a, retryable: true, error: 'killed', at });
  }
  const completed: RunEvent = {
    type: 'completed',
    phase,
    attempt,
    inputHash,
    manifestKey: entry.manifestKey,
    manifestSha256: entry.manifestSha256,
    cacheHit: false,
    at,
  };
  await writeRunRecord(store, { ...record, events: [...events, completed] });
}

function phaseRun(
  dataDir: string,
  args: string[],
): Promise<{ code: number; lines: Array<Record<string, unknown>>; stderr: string }> {
  return runKzr(['phase', 'run', '--run', run, ...args], { KZR_DATA_DIR: dataDir }).then((res) => ({
    code: res.code,
    lines: res.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: res.stderr,
  }));
}

describe('kzr phase run', { timeout: 300_000 }, () => {
  it(
    'hits the cache on the same inputs, and resumes a training killed mid-epoch after its checkpoint',
    { timeout: 300_000 },
    async (t) => {
      const dataDir = await tempDir(t, 'kzr-phase-run-');
      const store = await FsStore.open({ root: join(dataDir, 'store') });
      t.after(() => store.close());
      const smoke = await loadRunSpec({ preset: 'smoke' });
      // Two epochs for the first model's first training, so that it can be killed in the second;
      // one page per book, to be quick.
      const spec = {
        ...smoke,
        dataset: { ...smoke.dataset, synthetic: { ...smoke.dataset.synthetic!, pagesPerBook: 1 } },
        models: smoke.models.map((m, i) => (i === 0 ? { ...m, epochs: { ...m.epochs, firstTrain: 2 } } : m)),
      };
      const bus = new MemoryBus({ source: 'test', logger: createLogger({ level: 'warn' }) });
      const dataset = await resolveRunDataset({ store, bus, spec, dataset: undefined, dataDir });
      await bus.close();
      await createRun(store, run, spec, dataset);

      const pre = await phaseRun(dataDir, ['--phase', 'preprocess']);
      assert.equal(pre.code, 0, pre.stderr);
      assert.equal(pre.lines.at(-1)!.type, 'done');
      const again = await phaseRun(dataDir, ['--phase', 'preprocess']);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        again.lines.map((l) => [l.type, l.manifestKey]),
        [['cache-hit', pre.lines.at(-1)!.manifestKey]],
      );
      await recordCompleted(store, 'preprocess', 1);
      const split = await phaseRun(dataDir, ['--phase', 'split']);
      assert.equal(split.code, 0, split.stderr);
      await recordCompleted(store, 'split', 1);

      const trainArgs = ['--phase', 'first-train', '--model', 'tiny-resnet-gray32'];
      const child = spawn(
        process.execPath,
        [
          '--conditions=production',
          join(repoRoot, 'packages/cli/bin/kzr.js'),
          'phase',
          'run',
          '--run',
          run,
          ...trainArgs,
        ],
        { env: { ...process.env, KZR_DATA_DIR: dataDir }, detached: true, stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => child.on('exit', resolve));
      while ((await checkpointEpoch(store, run, train)) !== 1) {
        assert.equal(child.exitCode, null, 'the training ended before its first checkpoint');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      process.kill(-child.pid!, 'SIGKILL'); // its process group, in epoch 2
      await exited;
      assert.equal(await checkpointEpoch(store, run, train), 1);
      assert.equal(await readFailureReport(store, run, train, 1), undefined);

      const resumed = await phaseRun(dataDir, [...trainArgs, '--attempt', '2', '--resume']);
      assert.equal(resumed.code, 0, resumed.stderr);
      const epochs = resumed.lines.filter((l) => l.type === 'epoch').map((l) => l.epoch);
      assert.deepEqual(epochs, [2]);
      const done = resumed.lines.at(-1)!;
      const manifest = await readPhaseManifest(store, done.manifestKey as string, done.manifestSha256 as string);
      assert.equal(manifest.summary.resumedAfter, 1);
      assert.equal(manifest.summary.epochs, 2);
    },
  );
});
