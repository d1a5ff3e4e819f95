/**
 * Run artifacts in the Store, on both Store adapters (a directory and an S3 server): run
 * records, phase manifests and members, cache entries, stage reports.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { IntegrityError, InvalidArgumentError } from '@kzr/core';
import {
  buildPhaseGraph,
  formatRunRecord,
  parseRunSpec,
  readyPhases,
  reduceRunState,
  type RunRecord,
} from '@kzr/pipeline';
import { FsStore, NotFoundError, S3Store, type Store } from '@kzr/platform';
import { S3Server } from '@kzr/testkit';

import {
  listRuns,
  lookupPhaseCache,
  phaseMemberKey,
  readPhaseCacheEntry,
  readPhaseManifest,
  readPhaseMember,
  readRunRecord,
  readStagesReport,
  runRecordKey,
  runStagesKey,
  writePhaseCacheEntry,
  writePhaseManifest,
  writePhaseMember,
  writeRunRecord,
  writeStagesReport,
} from '../src/index.js';

const sha = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');
const at = '2026-12-07T18:00:00.000Z';

const spec = parseRunSpec({
  schemaVersion: 1,
  dataset: { synthetic: { books: 4, holdoutBooks: 1, pagesPerBook: 2, classes: 10, seed: 1 } },
  models: [{ name: 'm0', config: { model: { arch: 'resnet18' } }, split: 'a' }],
  split: { seed: 1, splits: [{ name: 'a', valBook: '900000003' }], testBooks: ['900000004'] },
});

const record: RunRecord = {
  schemaVersion: 1,
  run: 'r1',
  createdAt: at,
  spec,
  external: { dataset: sha('dataset') },
  events: [
    { type: 'started', phase: 'preprocess', attempt: 1, inputHash: sha('in'), resume: false, at },
    { type: 'failed', phase: 'preprocess', attempt: 1, retryable: true, error: 'the Job vanished', at },
  ],
};

const stages = {
  run: 'r1',
  stages: [
    {
      stage: 'first',
      f1: 0.8,
      precision: 0.75,
      recall: 0.857,
      tp: 6,
      fp: 2,
      fn: 1,
      submission: 'submission-first.csv',
    },
    { stage: 'final', f1: 0.9, precision: 0.9, recall: 0.9, tp: 9, fp: 1, fn: 1, submission: 'submission-final.csv' },
  ],
  pseudoLabels: { count: 120, precision: 0.975 },
} as const;

function namesField(field: string) {
  return (err: unknown): boolean => err instanceof InvalidArgumentError && err.field === field;
}

/** The same behaviour on every Store. */
function runArtifactsSuite(name: string, open: () => Promise<Store>): void {
  describe(`run artifacts on ${name}`, () => {
    it('writes a run record and reads the same record back; lists the runs', async () => {
      await using store = await open();
      await writeRunRecord(store, record);
      await writeRunRecord(store, { ...record, run: 'r0', events: [] });
      assert.deepEqual(await readRunRecord(store, 'r1'), record);
      assert.deepEqual(await listRuns(store), ['r0', 'r1']);
      // The record reduces to a state as stored.
      assert.equal(reduceRunState(buildPhaseGraph(spec), record.events).phases.get('preprocess')?.status, 'failed');
    });

    it('refuses a missing run, a record stored under another run and a bad record, naming the field', async () => {
      await using store = await open();
      await assert.rejects(readRunRecord(store, 'nope'), NotFoundError);
      const text = formatRunRecord(record);
      await store.put(runRecordKey('r2'), Buffer.from(text));
      await assert.rejects(readRunRecord(store, 'r2'), namesField('run.run'));
      await store.put(runRecordKey('r3'), Buffer.from(text.replace('"attempt": 1', '"attempt": -1')));
      await assert.rejects(readRunRecord(store, 'r3'), namesField('run.events[0].attempt'));
      await store.put(runRecordKey('r4'), Buffer.from('{'));
      await assert.rejects(readRunRecord(store, 'r4'), namesField('run'));
      await assert.rejects(writeRunRecord(store, { ...record, run: '../x' }), namesField('run'));
    });

    it('writes members, then the manifest; the manifest names them with their sha256 and reads back verified', async () => {
      await using store = await open();
      const weights = Buffer.from('weights of m0');
      const members = [
        await writePhaseMember(store, 'r1', 'first-train/m0', 'best/weights.bin', weights),
        await writePhaseMember(
          store,
          'r1',
          'first-train/m0',
          'metrics.json',
          Buffer.from('{"epochs":1}'),
          'application/json',
        ),
      ];
      assert.deepEqual(members[0], { key: 'best/weights.bin', sha256: sha(weights) });
      const written = await writePhaseManifest(store, {
        run: 'r1',
        phase: 'first-train/m0',
        inputHash: sha('in'),
        members,
        summary: { epochs: 1, bestValTop1: 0.5 },
        createdAt: new Date(at),
      });
      assert.equal(written.key, 'runs/r1/first-train/m0/manifest.json');
      assert.equal(written.sha256, sha(await store.getBytes(written.key)));
      assert.deepEqual(await readPhaseManifest(store, written.key, written.sha256), written.manifest);
      assert.deepEqual(written.manifest.summary, { epochs: 1, bestValTop1: 0.5 });
      assert.deepEqual(await readPhaseMember(store, written.key, members[0]!), weights);
      assert.equal(phaseMemberKey(written.key, members[1]!), 'runs/r1/first-train/m0/metrics.json');

      // A phase that is not per model writes beside its run's other phases.
      const split = await writePhaseManifest(store, { run: 'r1', phase: 'split', inputHash: sha('s'), members: [] });
      assert.equal(split.key, 'runs/r1/split/manifest.json');

      // Readers verify: a replaced member or manifest fails its sha256.
      await store.put('runs/r1/first-train/m0/best/weights.bin', Buffer.from('other weights'));
      await assert.rejects(readPhaseMember(store, written.key, members[0]!), IntegrityError);
      await assert.rejects(readPhaseManifest(store, written.key, sha('another manifest')), IntegrityError);
    });

    it('refuses a manifest for a phase that is no phase, or with a bad member, naming the field', async () => {
      await using store = await open();
      const base = { run: 'r1', inputHash: sha('in'), members: [] };
      await assert.rejects(writePhaseManifest(store, { ...base, phase: 'train/m0' }), namesField('manifest.phase'));
      await assert.rejects(
        writePhaseManifest(store, { ...base, phase: 'split', members: [{ key: '../x', sha256: sha('x') }] }),
        namesField('manifest.members[0].key'),
      );
      await assert.rejects(
        writePhaseManifest(store, { ...base, phase: 'split', inputHash: 'abc' }),
        namesField('manifest.inputHash'),
      );
      await assert.rejects(writePhaseMember(store, 'r1', 'split', 'a/../b', Buffer.from('x')), namesField('file'));
    });

    it('hits the cache only while the manifest an entry points at is there', async () => {
      await using store = await open();
      const graph = buildPhaseGraph(spec);
      const [ready] = readyPhases(graph, reduceRunState(graph, []), { dataset: sha('dataset') });
      assert.equal(ready?.node.id, 'preprocess');
      assert.deepEqual(await lookupPhaseCache(store, [ready!]), new Map());

      const manifest = await writePhaseManifest(store, {
        run: 'r1',
        phase: 'preprocess',
        inputHash: ready!.inputHash,
        members: [],
      });
      await writePhaseCacheEntry(store, {
        phase: 'preprocess',
        inputHash: ready!.inputHash,
        run: 'r1',
        manifestKey: manifest.key,
        manifestSha256: manifest.sha256,
        createdAt: new Date(at),
      });
      const entry = await readPhaseCacheEntry(store, 'preprocess', ready!.inputHash);
      assert.deepEqual(entry, {
        schemaVersion: 1,
        phase: 'preprocess',
        inputHash: ready!.inputHash,
        run: 'r1',
        manifestKey: 'runs/r1/preprocess/manifest.json',
        manifestSha256: manifest.sha256,
        createdAt: at,
      });
      assert.deepEqual(
        await lookupPhaseCache(store, [ready!]),
        new Map([[ready!.inputHash, { manifestKey: manifest.key, manifestSha256: manifest.sha256 }]]),
      );
      assert.equal(await readPhaseCacheEntry(store, 'preprocess', sha('other inputs')), undefined);
      assert.equal(await readPhaseCacheEntry(store, 'split', ready!.inputHash), undefined);

      // The outputs were deleted: the entry no longer counts (Flyte #4672, a hit on missing data).
      await store.delete(manifest.key);
      assert.equal(await readPhaseCacheEntry(store, 'preprocess', ready!.inputHash), undefined);
      await assert.rejects(
        writePhaseCacheEntry(store, {
          phase: 'preprocess',
          inputHash: 'x',
          run: 'r1',
          manifestKey: manifest.key,
          manifestSha256: manifest.sha256,
        }),
        namesField('cacheEntry.inputHash'),
      );
    });

    it('writes the stage report and reads it back; refuses stages out of order and bad scores', async () => {
      await using store = await open();
      await writeStagesReport(store, stages);
      assert.deepEqual(await readStagesReport(store, 'r1'), { schemaVersion: 1, ...stages });
      assert.ok((await store.stat(runStagesKey('r1'))).size > 0);
      await assert.rejects(
        writeStagesReport(store, { ...stages, stages: [stages.stages[1], stages.stages[0]] }),
        namesField('stages.stages[1].stage'),
      );
      await assert.rejects(
        writeStagesReport(store, { ...stages, stages: [{ ...stages.stages[0], f1: 1.2 }] }),
        namesField('stages.stages[0].f1'),
      );
      await assert.rejects(
        writeStagesReport(store, { ...stages, pseudoLabels: { count: -1, precision: 1 } }),
        namesField('stages.pseudoLabels.count'),
      );
      await assert.rejects(readStagesReport(store, 'r9'), NotFoundError);
    });
  });
}

let dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

runArtifactsSuite('the filesystem Store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kzr-runs-'));
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

runArtifactsSuite('the S3 Store (s3rver)', () =>
  S3Store.connect({
    endpoint: server!.endpoint,
    accessKey: S3Server.accessKey,
    secretKey: S3Server.secretKey,
    bucket: `t-${randomUUID().slice(0, 8)}`,
  }),
);
