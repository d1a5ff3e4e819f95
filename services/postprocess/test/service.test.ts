import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { datasetLabelsKey, filterFileKey, filterManifestKey, filtersPrefix, resultKey } from '@kzr/artifacts';
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import type { CharacterResult } from '@kzr/api/kzr/v1/common';
import {
  PagePredictions,
  PostprocessClient,
  type FilterPredictionsRequest,
  type FilterPredictionsResponse,
  type FinalizePageRequest,
  type FinalizePageResponse,
  type FitFilterProgress,
  type MergeDetectionsRequest,
  type MergeDetectionsResponse,
  type ScoreRequest,
  type ScoreResponse,
} from '@kzr/api/kzr/v1/postprocess';
import { formatTrainCsv, type CharLabel } from '@kzr/core';
import { MemoryFilterRepository } from '@kzr/artifacts';
import { fitFilterSteps } from '@kzr/gbdt';
import { createLogger, EventSubject, FsStore, GrpcServer, MemoryBus } from '@kzr/platform';

import { syntheticPages } from './pages.js';
import {
  compilePostprocessConfig,
  createPostprocess,
  createPostprocessService,
  type PostprocessDeps,
} from '../src/index.js';

const silent = createLogger({ write: () => {} });

async function start(deps: PostprocessDeps = {}) {
  const service = createPostprocessService(silent, deps);
  await service.startHotSwap();
  const server = await GrpcServer.start({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 16 << 20,
    services: [service],
    reflectionProtoFiles: [kzrProtoFiles.postprocess],
    protoIncludeDirs: [protoRoot],
    logger: silent,
  });
  const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
  return { server, client, service };
}

/** A replica as the main starts it: the service runtime with its filter hot swap on the Bus. */
async function startReplica(store: FsStore, bus: MemoryBus, durable: string) {
  const config = compilePostprocessConfig({ KZR_GRPC_PORT: '0', KZR_GRPC_MAX_MESSAGE_BYTES: '16MiB' });
  const runtime = await createPostprocess({ config, bus, store, logger: silent, durable });
  const client = new PostprocessClient(runtime.server.endpoint, grpc.credentials.createInsecure());
  return { runtime, client };
}

function merge(client: PostprocessClient, req: MergeDetectionsRequest): Promise<MergeDetectionsResponse> {
  return new Promise((resolve, reject) =>
    client.mergeDetections(req, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

function filter(client: PostprocessClient, req: FilterPredictionsRequest): Promise<FilterPredictionsResponse> {
  return new Promise((resolve, reject) =>
    client.filterPredictions(req, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

function finalize(client: PostprocessClient, req: Partial<FinalizePageRequest>): Promise<FinalizePageResponse> {
  const full: FinalizePageRequest = {
    pageId: '',
    pageWidth: 0,
    pageHeight: 0,
    sets: [],
    filterVersion: '',
    threshold: 0,
    unfiltered: false,
    lowConfidenceThreshold: 0,
    ...req,
  };
  return new Promise((resolve, reject) => client.finalizePage(full, (err, res) => (err ? reject(err) : resolve(res))));
}

function score(client: PostprocessClient, req: ScoreRequest): Promise<ScoreResponse> {
  return new Promise((resolve, reject) => client.score(req, (err, res) => (err ? reject(err) : resolve(res))));
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return (await promise.then(
    () => assert.fail('expected an error'),
    (err: unknown) => err,
  )) as grpc.ServiceError;
}

function char(code: string, x: number, y: number, w: number, h: number, probability: number): CharacterResult {
  return {
    code,
    character: '',
    box: { x, y, width: w, height: h },
    centerX: x + w / 2,
    centerY: y + h / 2,
    probability,
    detectorScore: 0.9,
    detectionSet: '',
    column: 0,
    order: 0,
    lowConfidence: false,
    top: [],
  };
}

describe('kzr.v1.Postprocess', () => {
  it('refuses a page over the character limit before any work, naming the limit (issue 22)', async () => {
    const { server, client } = await start({ maxCharactersPerPage: 2 });
    try {
      const page = { pageId: 'p_1', pageWidth: 100, pageHeight: 100, detectionSet: 'det' };
      const characters = [0, 20, 40].map((x) => char('U+3042', x, 0, 10, 10, 0.9));
      const err = await failure(merge(client, { sets: [{ ...page, characters }], iouThreshold: 0 }));
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(err.details, 'sets[0].characters: 3 characters exceed KZR_POSTPROCESS_MAX_CHARACTERS = 2');
      const fin = await failure(
        finalize(client, { pageId: 'p_1', pageWidth: 100, pageHeight: 100, sets: [{ ...page, characters }] }),
      );
      assert.equal(fin.code, grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });

  it('MergeDetections keeps the more probable of overlapping boxes across sets', async () => {
    const { server, client } = await start();
    try {
      const a = char('U+3042', 0, 0, 10, 10, 0.9);
      const b = char('U+3044', 2, 0, 10, 10, 0.95); // IoU 0.69 with a: a goes
      const c = char('U+3046', 50, 0, 10, 10, 0.2);
      const page = { pageId: 'p_1', pageWidth: 100, pageHeight: 100 };
      const res = await merge(client, {
        sets: [
          { ...page, detectionSet: 'det-060000', characters: [a, c] },
          { ...page, detectionSet: 'det-100000', characters: [b] },
        ],
        iouThreshold: 0,
      });
      assert.deepEqual(
        res.merged!.characters.map((ch) => ch.code),
        ['U+3046', 'U+3044'],
      );
      assert.equal(res.merged!.detectionSet, 'det-060000+det-100000');

      const err = await failure(
        merge(client, {
          sets: [{ ...page, detectionSet: 'x', characters: [{ ...a, box: { x: 0, y: 0, width: -4, height: 3 } }] }],
          iouThreshold: 0,
        }),
      );
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.deepEqual(err.metadata.get('kzr-field'), ['sets[0].characters[0].box.width']);
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });

  it('FinalizePage merges the sets, filters with the current filter (or marks the page unfiltered), orders and labels', async () => {
    const filters = new MemoryFilterRepository();
    const { server, client, service } = await start({ filters });
    try {
      const { pages, truth } = syntheticPages(7, 11);
      const [page, ...others] = pages as [PagePredictions, ...PagePredictions[]];
      // Two detection sets of one page: every box in the first, a shifted copy of the even ones in the second.
      const shifted = page.characters
        .filter((_, i) => i % 2 === 0)
        .map((c) => ({ ...c, box: { ...c.box!, x: c.box!.x + 1 }, probability: c.probability * 0.9 }));
      const request = {
        pageId: page.pageId,
        pageWidth: page.pageWidth,
        pageHeight: page.pageHeight,
        sets: [
          { ...page, detectionSet: 'a' },
          { pageId: '', pageWidth: 0, pageHeight: 0, detectionSet: 'b', characters: shifted },
        ],
      };
      // No filter published: the merged page comes back unfiltered, in reading order.
      const plain = await finalize(client, request);
      assert.equal(plain.filterVersion, 'unfiltered');
      assert.deepEqual([plain.pageWidth, plain.pageHeight], [page.pageWidth, page.pageHeight]);
      // The shifted copies are merged away: as many characters as the first set merged alone.
      const alone = await merge(client, { sets: [page], iouThreshold: 0 });
      assert.equal(plain.characters.length, alone.merged!.characters.length);
      assert.deepEqual(
        plain.characters.map((c) => c.order),
        plain.characters.map((_, i) => i),
      );
      // Columns run right to left: the first character is in the rightmost column.
      const firstX = plain.characters[0]!.centerX;
      assert.ok(plain.characters.every((c) => c.column > 0 || Math.abs(c.centerX - firstX) < 40));
      assert.equal(plain.kaggleLabels.split(' ').length, 3 * plain.characters.length);
      assert.equal(plain.text.split('\n').join('').length, plain.characters.length);

      // A filter fitted on the other pages becomes current: fewer characters, its version named.
      const truthOf = new Map<string, readonly CharLabel[]>(truth.map((t) => [t.pageId, t.labels]));
      const steps = fitFilterSteps(
        others.map((p) => ({
          pageId: p.pageId,
          width: p.pageWidth,
          height: p.pageHeight,
          boxes: p.characters.map((c) => ({
            ...c.box!,
            code: c.code,
            probability: c.probability,
            score: c.detectorScore,
          })),
        })),
        truthOf,
        { folds: 3, seed: 1, rounds: 40 },
      );
      let next = steps.next();
      while (next.done !== true) next = steps.next();
      const fitted = next.value;
      const boosters = fitted.boosters;
      await filters.save({
        version: 'f1',
        boosters,
        featureNames: boosters[0]!.featureNames,
        threshold: fitted.threshold,
      });
      await service.filters.swapTo('f1');
      const filtered = await finalize(client, request);
      assert.equal(filtered.filterVersion, 'f1');
      assert.ok(filtered.characters.length < plain.characters.length && filtered.characters.length > 0);
      // Asked for, every merged candidate comes back.
      const all = await finalize(client, { ...request, unfiltered: true });
      assert.equal(all.filterVersion, 'unfiltered');
      assert.equal(all.characters.length, plain.characters.length);

      const bad = await failure(finalize(client, { ...request, pageWidth: 0 }));
      assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
      assert.deepEqual(bad.metadata.get('kzr-field'), ['page_width']);
      const other = await failure(finalize(client, { ...request, sets: [{ ...page, pageId: 'other_1' }] }));
      assert.deepEqual(other.metadata.get('kzr-field'), ['sets[0].page_id']);
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });

  it('Score answers the Kaggle F1 and rejects a malformed CSV naming the field', async () => {
    const { server, client } = await start();
    try {
      const truthCsv = 'image_id,labels\np_1,U+3042 10 10 20 20 U+3044 50 50 20 20\n';
      const res = await score(client, {
        truthCsv,
        submissionCsv: 'image_id,labels\np_1,U+3042 20 20 U+3046 60 60\n',
      });
      assert.deepEqual([res.tp, res.fp, res.fn], [1, 1, 1]);
      assert.equal(res.f1, 0.5);
      const err = await failure(score(client, { truthCsv, submissionCsv: 'nope\n' }));
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });

  it('FitFilter streams progress, stores model.txt + features.json, publishes it, and a subscribed replica hot-swaps', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-postprocess-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const store = new FsStore({ root: dir });
    const bus = new MemoryBus({ logger: silent });
    const { pages, truth } = syntheticPages(6, 3);
    await store.put(
      resultKey('t', 'preds.json'),
      Buffer.from(JSON.stringify({ pages: pages.map((p) => PagePredictions.toJSON(p)) })),
    );
    await store.put(datasetLabelsKey('t'), Buffer.from(formatTrainCsv(truth)));

    const a = await startReplica(store, bus, 'replica-a');
    const b = await startReplica(store, bus, 'replica-b');
    const published: string[] = [];
    await bus.consume({ durable: 'test-watch', filterSubject: EventSubject.FilterPublished }, async (m) => {
      published.push(m.event.version);
    });
    try {
      // No filter yet: the current one is unavailable, a named unknown one is not found.
      const none = await failure(filter(b.client, { filterVersion: '', pages, threshold: 0 }));
      assert.equal(none.code, grpc.status.UNAVAILABLE);
      const unknown = await failure(filter(b.client, { filterVersion: 'f-nope', pages, threshold: 0 }));
      assert.equal(unknown.code, grpc.status.NOT_FOUND);
      assert.match(unknown.details, /f-nope/);

      const progress: FitFilterProgress[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = a.client.fitFilter({
          predictionsKey: resultKey('t', 'preds.json'),
          truthKey: datasetLabelsKey('t'),
          folds: 3,
          trials: 0,
          seed: 1,
        });
        stream.on('data', (m: FitFilterProgress) => progress.push(m));
        stream.on('error', reject);
        stream.on('end', () => resolve());
      });
      const done = progress.at(-1)!;
      assert.equal(done.stage, 'done');
      assert.ok(
        progress.some((m) => m.stage === 'cv'),
        'CV progress was streamed',
      );
      const version = done.filterVersion;
      assert.match(version, /^f\d{8}T\d{9}Z-\d{3}$/);
      const keys = (await store.list(filtersPrefix)).map((o) => o.key).sort();
      assert.ok(keys.includes(filterFileKey(version, 'model.txt')) && keys.includes(filterManifestKey(version)));
      const manifest = JSON.parse((await store.getBytes(filterManifestKey(version))).toString()) as {
        featureNames: string[];
        threshold: number;
      };
      assert.equal(manifest.featureNames.length, 117);

      // The event reaches the watcher and replica b, which swaps to the new version.
      for (
        let i = 0;
        i < 100 && (published.length === 0 || (await b.runtime.filters.get('').catch(() => undefined)) === undefined);
        i++
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(published, [version]);
      const filtered = await filter(b.client, {
        filterVersion: '',
        pages,
        threshold: 0,
      });
      assert.equal(filtered.filterVersion, version);
      const before = pages.reduce((s, p) => s + p.characters.length, 0);
      const after = filtered.pages.reduce((s, p) => s + p.characters.length, 0);
      assert.ok(after < before && after > 0, `${after} of ${before} boxes kept`);
      assert.match(filtered.submissionCsv, /^image_id,labels\nsynth3_000,U\+/);

      const badPage = await failure(
        filter(b.client, {
          filterVersion: version,
          pages: [{ ...pages[0]!, pageWidth: 0 }],
          threshold: 0,
        }),
      );
      assert.equal(badPage.code, grpc.status.INVALID_ARGUMENT);
      assert.deepEqual(badPage.metadata.get('kzr-field'), ['pages[0].pageWidth']);
    } finally {
      a.client.close();
      b.client.close();
      await a.runtime.close();
      await b.runtime.close();
      await bus.close();
      await store.close();
    }
  });
});
