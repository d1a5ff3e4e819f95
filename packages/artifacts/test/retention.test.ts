/**
 * Retention on both Store adapters (a directory and an S3 server): old final runs go with their
 * cache entries and results, runs that are not final and runs a kept run read stay; model-set
 * versions beyond the newest go except the served, promoted and rollback ones; incomplete
 * results go once stale; a dry run removes nothing and says the same.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  buildPhaseGraph,
  parseRunSpec,
  reduceRunState,
  type RunEvent,
  type RunRecord,
  type RunStatus,
} from '@kzr/pipeline';
import { FsStore, S3Store, type Store } from '@kzr/platform';
import { S3Server } from '@kzr/testkit';

import {
  collectGarbage,
  cropShardKey,
  filterFileKey,
  filterManifestKey,
  listModelSetVersions,
  modelSetFileKey,
  phaseManifestKey,
  promoteVersion,
  publishModelSet,
  readPhaseCacheEntry,
  resultKey,
  rollbackVersion,
  runRecordKey,
  writePhaseCacheEntry,
  writeRunRecord,
} from '../src/index.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const hour = 3_600_000;
const t0 = Date.now();
const hoursAgo = (h: number): string => new Date(t0 - h * hour).toISOString();

const spec = parseRunSpec({
  schemaVersion: 1,
  dataset: { name: 'd1' },
  models: [{ name: 'm0', config: { model: { arch: 'resnet18' } }, split: 'a' }],
  split: { seed: 1, splits: [{ name: 'a', valBook: '900000003' }], testBooks: ['900000004'] },
});
const graph = buildPhaseGraph(spec);
const input = {
  name: 'm',
  kind: 'onnx',
  onnx: Uint8Array.of(1, 2, 3),
  input: { channels: 1, scaleSize: 8, cropSize: 8, mean: [0.5], std: [0.25] },
} as const;

/** A run's record that reduces to `status`; `preprocessFrom` makes its preprocess a cache hit on that run's. */
function recordOf(run: string, status: RunStatus, createdAt: string, preprocessFrom?: string): RunRecord {
  const at = createdAt;
  const manifest = (owner: string, id: string) => {
    const [phase, model] = id.split('/') as [string, string | undefined];
    return { manifestKey: phaseManifestKey(owner, phase, model), manifestSha256: sha(`${owner}/${id}`) };
  };
  const done = (id: string): RunEvent[] =>
    id === 'preprocess' && preprocessFrom !== undefined
      ? [
          {
            type: 'completed',
            phase: id,
            attempt: 0,
            inputHash: sha(`in-${preprocessFrom}`),
            ...manifest(preprocessFrom, id),
            cacheHit: true,
            at,
          },
        ]
      : [
          { type: 'started', phase: id, attempt: 1, inputHash: sha(`in-${run}-${id}`), resume: false, at },
          {
            type: 'completed',
            phase: id,
            attempt: 1,
            inputHash: sha(`in-${run}-${id}`),
            ...manifest(run, id),
            cacheHit: false,
            at,
          },
        ];
  const first = graph.phases[0]!.id;
  const events: RunEvent[] =
    status === 'succeeded'
      ? graph.phases.flatMap((p) => done(p.id))
      : status === 'failed'
        ? [
            { type: 'started', phase: first, attempt: 1, inputHash: sha('x'), resume: false, at },
            { type: 'failed', phase: first, attempt: 1, retryable: false, error: 'bad input', at },
          ]
        : status === 'cancelled'
          ? [{ type: 'cancel-requested', reason: 'test', at }]
          : [{ type: 'started', phase: first, attempt: 1, inputHash: sha('x'), resume: false, at }];
  const record: RunRecord = { schemaVersion: 1, run, createdAt, spec, external: { dataset: sha('d1') }, events };
  assert.equal(reduceRunState(graph, events).status, status, run);
  return record;
}

/** A run with its record, its preprocess output and cache entry (when it made one), and a result file. */
async function putRun(store: Store, record: RunRecord): Promise<void> {
  await writeRunRecord(store, record);
  const own = record.events.find((e) => e.type === 'completed' && e.phase === 'preprocess' && !e.cacheHit);
  const manifestKey = phaseManifestKey(record.run, 'preprocess');
  await store.put(`${manifestKey.slice(0, -'manifest.json'.length)}out.bin`, Buffer.from(`out of ${record.run}`));
  await store.put(manifestKey, Buffer.from(`manifest of ${record.run}`));
  if (own !== undefined && own.type === 'completed') {
    const manifest = await store.stat(manifestKey);
    await writePhaseCacheEntry(store, {
      phase: 'preprocess',
      inputHash: own.inputHash,
      run: record.run,
      manifestKey,
      manifestSha256: manifest.sha256,
    });
  }
  await store.put(resultKey(record.run, 'stages.json'), Buffer.from('{}'));
}

async function keys(store: Store): Promise<string[]> {
  return (await store.list('')).map((i) => i.key);
}

function retentionSuite(name: string, open: () => Promise<Store>): void {
  describe(`retention on ${name}`, () => {
    it('keeps the newest final runs, every run not final and the runs a kept run read; the rest goes with its cache entries and results', async () => {
      await using store = await open();
      // Arrange: final runs r1 (oldest) .. r6 (newest), r4 still running; r5 read r1's preprocess from the cache.
      await putRun(store, recordOf('r1', 'succeeded', hoursAgo(50)));
      await putRun(store, recordOf('r2', 'failed', hoursAgo(40)));
      await putRun(store, recordOf('r3', 'succeeded', hoursAgo(30)));
      await putRun(store, recordOf('r4', 'running', hoursAgo(60)));
      await putRun(store, recordOf('r5', 'succeeded', hoursAgo(20), 'r1'));
      await putRun(store, recordOf('r6', 'cancelled', hoursAgo(10)));
      const before = await keys(store);

      // A dry run says what would go and removes nothing.
      const dry = await collectGarbage(store, { keepRuns: 2, dryRun: true });
      assert.deepEqual(await keys(store), before);
      const report = await collectGarbage(store, { keepRuns: 2 });
      assert.deepEqual(dry, { ...report, dryRun: true });

      // Assert: r2 and r3 went (the oldest final runs not read by a kept one); r1 is held for r5.
      // (r2 failed before its preprocess completed: it made no cache entry.)
      assert.deepEqual(
        report.removed.map((r) => `${r.type} ${'run' in r ? r.run : ''}`),
        ['cache-entry r3', 'run r2', 'run r3'],
      );
      assert.deepEqual(report.held, [{ run: 'r1', readBy: 'r5' }]);
      const run3 = report.removed.find((r) => r.type === 'run' && r.run === 'r3');
      assert.deepEqual(run3 && { ...run3, bytes: 0 }, {
        type: 'run',
        run: 'r3',
        status: 'succeeded',
        createdAt: hoursAgo(30),
        objects: 4,
        bytes: 0,
      });
      const left = await keys(store);
      for (const run of ['r2', 'r3']) {
        assert.deepEqual(
          left.filter((k) => k.includes(`/${run}/`) || k.endsWith(`${run}`)),
          [],
          `nothing of ${run} is left`,
        );
      }
      for (const run of ['r1', 'r4', 'r5', 'r6']) assert.ok(left.includes(runRecordKey(run)), run);
      // r1's cache entry stays, and so does the manifest it points at.
      const entry = await readPhaseCacheEntry(store, 'preprocess', sha('in-r1-preprocess'));
      assert.ok(entry !== undefined && left.includes(entry.manifestKey));
      assert.equal(
        before.length - left.length,
        report.removed.reduce((n, r) => n + r.objects, 0),
      );
      // Again: nothing more to do.
      assert.deepEqual((await collectGarbage(store, { keepRuns: 2 })).removed, []);
    });

    it('keeps the newest versions of each set and the served, promoted and rollback ones', async () => {
      await using store = await open();
      for (let i = 1; i <= 6; i++) {
        await publishModelSet(store, {
          modelSet: 'ks',
          version: `v${i}`,
          codes: ['U+3042', 'U+3044'],
          members: [input],
          createdAt: new Date(t0 - (10 - i) * hour),
        });
      }
      for (let i = 1; i <= 3; i++) {
        await publishModelSet(store, {
          modelSet: 'plain',
          version: `p${i}`,
          codes: ['U+3042', 'U+3044'],
          members: [input],
          createdAt: new Date(t0 - (10 - i) * hour),
        });
      }
      // v2 promoted over v6 (newest), then v4 over v2: v4 served, rollback returns to v2, then v6.
      await promoteVersion(store, 'ks', 'v2');
      assert.deepEqual(await promoteVersion(store, 'ks', 'v4'), { version: 'v4', previous: ['v6', 'v2'] });

      const report = await collectGarbage(store, { keepVersions: 2 });
      assert.deepEqual(
        report.removed.map((r) => (r.type === 'model-version' ? `${r.modelSet}@${r.version}` : r.type)),
        ['ks@v3', 'ks@v1', 'plain@p1'],
      );
      assert.deepEqual(
        (await listModelSetVersions(store)).map((v) => `${v.modelSet}@${v.version}${v.served ? ' served' : ''}`),
        ['ks@v6', 'ks@v5', 'ks@v4 served', 'ks@v2', 'plain@p3 served', 'plain@p2'],
      );
      assert.deepEqual(
        (await keys(store)).filter((k) => /\/(v1|v3|p1)\//.test(k)),
        [],
      );
      // Every rollback still finds its version.
      assert.equal((await rollbackVersion(store, 'ks')).version, 'v2');
      assert.equal((await rollbackVersion(store, 'ks')).version, 'v6');
      // Even keeping none, the served version stays.
      const none = await collectGarbage(store, { keepVersions: 0 });
      assert.deepEqual(
        none.removed.map((r) => (r.type === 'model-version' ? `${r.modelSet}@${r.version}` : r.type)),
        ['ks@v5', 'ks@v4', 'ks@v2', 'plain@p2'],
      );
    });

    it('sweeps results that never became visible and dangling cache entries once they are an hour old', async () => {
      await using store = await open();
      await putRun(store, recordOf('r1', 'succeeded', hoursAgo(5)));
      await publishModelSet(store, { modelSet: 'ks', version: 'v1', codes: ['U+3042', 'U+3044'], members: [input] });
      // Incomplete: a version, a filter, a split's crops without their manifests; outputs of a
      // run without a record; results of no run; a cache entry of a run that is gone.
      await store.put(modelSetFileKey('ks', 'v2', 'm.onnx'), Buffer.from('half a publication'));
      await store.put(filterFileKey('f1', 'model.txt'), Buffer.from('tree'));
      await store.put(filterFileKey('f2', 'model.txt'), Buffer.from('tree'));
      await store.put(filterManifestKey('f2'), Buffer.from('{}'));
      await store.put(cropShardKey('d1', 'a', 'shard-00000.bin'), Buffer.from('crops'));
      await store.put(`${phaseManifestKey('rx', 'split').slice(0, -'manifest.json'.length)}part.bin`, Buffer.from('x'));
      await store.put(resultKey('ry', 'stages.json'), Buffer.from('{}'));
      await writePhaseCacheEntry(store, {
        phase: 'split',
        inputHash: sha('gone'),
        run: 'r0',
        manifestKey: phaseManifestKey('r0', 'split'),
        manifestSha256: sha('m'),
      });
      const before = await keys(store);

      // Just written: they may still be being written, so they stay.
      assert.deepEqual((await collectGarbage(store)).removed, []);
      assert.deepEqual(await keys(store), before);

      // Two hours later they are stale; every complete result stays.
      const later = await collectGarbage(store, { now: new Date(Date.now() + 2 * hour) });
      assert.deepEqual(
        later.removed.map((r) =>
          r.type === 'staging' ? `${r.kind} ${r.prefix}` : r.type === 'cache-entry' ? `${r.type} ${r.key}` : r.type,
        ),
        [
          `cache-entry cache/split/${sha('gone')}.json`,
          'run runs/rx/',
          'run-results results/ry/',
          'model-version models/ks/v2/',
          'filter-version filters/f1/',
          'crops crops/d1/a/',
        ],
      );
      const left = await keys(store);
      assert.deepEqual(
        before.filter((k) => !left.includes(k)).sort(),
        [
          `cache/split/${sha('gone')}.json`,
          cropShardKey('d1', 'a', 'shard-00000.bin'),
          filterFileKey('f1', 'model.txt'),
          modelSetFileKey('ks', 'v2', 'm.onnx'),
          resultKey('ry', 'stages.json'),
          'runs/rx/split/part.bin',
        ].sort(),
      );
    });
  });
}

let dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

retentionSuite('the filesystem Store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kzr-retention-'));
  dirs = [...dirs, dir];
  return FsStore.open({ root: dir });
});

let server: S3Server | undefined;
before(async () => {
  server = await S3Server.start({ buckets: [] });
});
after(async () => {
  await server?.cleanup();
});

retentionSuite('the S3 Store (s3rver)', () =>
  S3Store.connect({
    endpoint: server!.endpoint,
    accessKey: S3Server.accessKey,
    secretKey: S3Server.secretKey,
    bucket: `t-${randomUUID().slice(0, 8)}`,
  }),
);
