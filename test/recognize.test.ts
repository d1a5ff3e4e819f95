import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import {
  InferenceClient,
  type RecognizePageRequest,
  type RecognizePageResponse,
  Voting,
} from '@kzr/api/kzr/v1/inference';
import { type DetectionSet, toDetectionSet } from '@kzr/core';
import { decodeImage, encodePng, preprocessPage } from '@kzr/imaging';
import { FsStore } from '@kzr/platform';

import { startPagePath } from './helpers/page-path.js';
import { syntheticCrops } from './helpers/synthetic-crops.js';
import { importTinyModel, kzr as run, type KzrResult, trainTinyModel } from './helpers/tiny-model.js';

let dir: string;
let env: NodeJS.ProcessEnv;

function kzr(...args: string[]): Promise<KzrResult> {
  return run(env, ...args);
}

interface Printed {
  pageId: string;
  servedBy: { modelSet: string; version: string };
  characters: Array<{
    code: string;
    box: { x: number; y: number; width: number; height: number };
    centerX: number;
    centerY: number;
    column: number;
    order: number;
    detectionSet: string;
    probability: number;
  }>;
  text: string;
  kaggleLabels: string;
  pageWidth: number;
  pageHeight: number;
  filterVersion: string;
}

let pageId: string;
let pagePath: string;
let detectionFiles: string[];
let sets: DetectionSet[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kzr-recognize-'));
  env = { ...process.env, KZR_DATA_DIR: join(dir, 'data'), KZR_TF_BACKEND: 'wasm' };
  // Arrange: synthetic books (two simulated detectors), crops, and a tiny model trained on them.
  const crops = await syntheticCrops(dir, { classes: 6, pagesPerBook: 1, seed: 5, trainBooks: 2 });
  await trainTinyModel(dir, crops, 6, env);
  const trainCsv = await readFile(join(dir, 'books', 'train.csv'), 'utf8');
  pageId = trainCsv.split('\n')[1]!.split(',')[0]!;
  pagePath = join(dir, 'books', 'train_images', `${pageId}.jpg`);
  const detDir = join(dir, 'books', 'detections');
  detectionFiles = (await readdir(detDir)).filter((f) => f.endsWith('.json')).map((f) => join(detDir, f));
  sets = await Promise.all(detectionFiles.map(async (f) => toDetectionSet(JSON.parse(await readFile(f, 'utf8')), f)));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kzr model export-onnx / import-onnx and kzr recognize', () => {
  it('exports a checkpoint to ONNX within 1e-4 of tfjs and publishes it with the checkpoint as a model set', async () => {
    const exported = await kzr('model', 'export-onnx', join(dir, 'run', 'best'), join(dir, 'model.onnx'));
    assert.equal(exported.code, 0, exported.stderr);
    const info = JSON.parse(exported.stdout) as { maxLogitDiff: number; numClasses: number };
    assert.ok(info.maxLogitDiff < 1e-4);
    const imported = await importTinyModel(env, dir, 'synth', 'none');
    assert.equal(imported.code, 0, imported.stderr);
    const out = JSON.parse(imported.stdout) as { members: Array<{ kind: string }> };
    assert.deepEqual(
      out.members.map((m) => m.kind),
      ['onnx', 'kzr'],
    );
    // A class list that does not fit the model is refused before anything is written.
    await writeFile(join(dir, 'few.json'), JSON.stringify(['U+3042', 'U+3044']));
    const bad = await kzr(
      'model',
      'import-onnx',
      '--model-set',
      'synth',
      '--version',
      'v2',
      '--classes',
      join(dir, 'few.json'),
      '--input',
      '1,18,16',
      '--mean',
      '0.5',
      '--std',
      '0.25',
      join(dir, 'model.onnx'),
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /outputs/);
  });

  it('recognises a synthetic page: boxes from the input sets, columns right to left, a Kaggle string kzr score parses', async () => {
    const args = ['recognize', pagePath, ...detectionFiles.flatMap((f) => ['--detections', f])];
    const res = await kzr(...args);
    assert.equal(res.code, 0, res.stderr);
    const printed = JSON.parse(res.stdout) as Printed;
    assert.deepEqual(printed.servedBy, { modelSet: 'synth', version: 'v1' });
    assert.ok(printed.characters.length > 0);
    const inputBoxes = new Set(
      sets.flatMap((s) =>
        s.pages
          .filter((p) => p.pageId === pageId)
          .flatMap((p) => p.detections.map((d) => `${s.name}|${d.x},${d.y},${d.width},${d.height}`)),
      ),
    );
    for (const c of printed.characters) {
      assert.ok(
        inputBoxes.has(`${c.detectionSet}|${c.box.x},${c.box.y},${c.box.width},${c.box.height}`),
        'every box comes from an input set',
      );
    }
    assert.deepEqual(
      printed.characters.map((c) => c.order),
      printed.characters.map((_, i) => i),
    );
    const columns = Math.max(...printed.characters.map((c) => c.column)) + 1;
    const meanX = Array.from({ length: columns }, (_, k) => {
      const xs = printed.characters.filter((c) => c.column === k).map((c) => c.centerX);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    });
    for (let k = 1; k < columns; k++) assert.ok(meanX[k]! < meanX[k - 1]!, `column ${k} lies left of column ${k - 1}`);
    assert.equal(printed.text.split('\n').length, columns);
    await writeFile(join(dir, 'sub.csv'), `image_id,labels\n${pageId},${printed.kaggleLabels}\n`);
    const truth = join(dir, 'truth.csv');
    const trainCsv = (await readFile(join(dir, 'books', 'train.csv'), 'utf8')).split('\n');
    await writeFile(truth, [trainCsv[0], trainCsv.find((l) => l.startsWith(`${pageId},`))].join('\n') + '\n');
    const scored = await kzr('score', '--truth', truth, '--pred', join(dir, 'sub.csv'));
    assert.equal(scored.code, 0, scored.stderr);
    const f1 = JSON.parse(scored.stdout) as { f1: number; tp: number; fp: number };
    assert.equal(f1.tp + f1.fp, printed.characters.length);
    console.log(`recognize: ${printed.characters.length} characters, F1 ${f1.f1.toFixed(3)} on a training page`);

    // No filter is published: every merged candidate is kept, and the page says so.
    assert.equal(printed.filterVersion, 'unfiltered');
    assert.deepEqual([printed.pageWidth, printed.pageHeight], [600, 800]);

    // The same page through running services (--server) prints the same bytes.
    const store = new FsStore({ root: join(dir, 'data', 'store') });
    const path = await startPagePath(store);
    try {
      await path.inference.registry.activate('synth', 'v1');
      const remote = await kzr(...args, '--server', path.endpoint);
      assert.equal(remote.code, 0, remote.stderr);
      assert.equal(remote.stdout, res.stdout);
      // The server's failure reaches the user by its kind: a model set it lacks is not found (exit 1).
      const missing = await kzr(...args, '--model-set', 'nosuch', '--server', path.endpoint);
      assert.equal(missing.code, 1, missing.stderr);
      assert.match(missing.stderr, new RegExp(`^kzr: ${path.endpoint}: .*nosuch`, 'm'));
    } finally {
      await path.close();
      await store.close();
    }
  });

  it('recognises a folder of pages and writes their Kaggle submission; --unfiltered keeps every merged candidate', async () => {
    const folder = join(dir, 'books', 'train_images');
    const pages = (await readdir(folder)).filter((f) => f.endsWith('.jpg'));
    const csv = join(dir, 'folder.csv');
    const res = await kzr('recognize', folder, ...detectionFiles.flatMap((f) => ['--detections', f]), '--out-csv', csv);
    assert.equal(res.code, 0, res.stderr);
    const printed = JSON.parse(res.stdout) as Printed[];
    assert.deepEqual(
      printed.map((p) => `${p.pageId}.jpg`),
      pages.sort(),
    );
    const rows = (await readFile(csv, 'utf8')).trim().split('\n');
    assert.equal(rows[0], 'image_id,labels');
    assert.deepEqual(
      rows.slice(1),
      printed.map((p) => `${p.pageId},${p.kaggleLabels}`),
    );
    const all = await kzr('recognize', pagePath, ...detectionFiles.flatMap((f) => ['--detections', f]), '--unfiltered');
    assert.equal(all.code, 0, all.stderr);
    const unfiltered = JSON.parse(all.stdout) as Printed;
    assert.equal(unfiltered.filterVersion, 'unfiltered');
    assert.ok(unfiltered.characters.every((c) => c.box.width > 0 && c.probability > 0));
  });

  it('serves a set raw pages when its manifest says none, and Ben + denoise pages when it says so', async () => {
    // The same members published again, this time recorded as trained on preprocessed pages.
    const republished = await importTinyModel(env, dir, 'synth-ben', 'ben+denoise');
    assert.equal(republished.code, 0, republished.stderr);
    const store = new FsStore({ root: join(dir, 'data', 'store') });
    const path = await startPagePath(store);
    const client = new InferenceClient(path.endpoint, grpc.credentials.createInsecure());
    try {
      await path.inference.registry.activate('synth', 'v1');
      await path.inference.registry.activate('synth-ben', 'v1');
      const raw = await readFile(pagePath);
      const ben = await encodePng(await preprocessPage(await decodeImage(raw)));
      const request = (modelSet: string, data: Uint8Array, preprocessed: boolean): RecognizePageRequest => ({
        model: { modelSet, version: '' },
        pageId,
        image: { source: { $case: 'encoded', value: { data, mediaType: MediaType.MEDIA_TYPE_UNSPECIFIED } } },
        preprocessed,
        detectionSets: sets.map((s) => ({
          name: s.name,
          pageId,
          detections: s.pages
            .find((p) => p.pageId === pageId)!
            .detections.map((d) => ({ box: { x: d.x, y: d.y, width: d.width, height: d.height }, score: d.score })),
        })),
        voting: Voting.VOTING_UNSPECIFIED,
        lowConfidenceThreshold: 0,
        filterVersion: '',
        unfiltered: false,
      });
      const ask = (modelSet: string, data: Uint8Array, preprocessed: boolean): Promise<RecognizePageResponse> =>
        new Promise((resolve, reject) =>
          client.recognizePage(request(modelSet, data, preprocessed), (err, res) => (err ? reject(err) : resolve(res))),
        );
      const probabilities = (r: RecognizePageResponse): number[] => r.characters.map((c) => c.probability);
      // 'none': the scan is classified as sent; it is what the raw page given as "preprocessed" gets.
      const none = await ask('synth', raw, false);
      assert.deepEqual(probabilities(none), probabilities(await ask('synth', raw, true)));
      // 'ben+denoise': the scan is preprocessed first; it is what the preprocessed page gets.
      const benServed = await ask('synth-ben', raw, false);
      assert.deepEqual(probabilities(benServed), probabilities(await ask('synth-ben', ben, true)));
      assert.notDeepEqual(probabilities(benServed), probabilities(none));
      assert.deepEqual(benServed.servedBy, { modelSet: 'synth-ben', version: 'v1' });

      // RecognizePages streams the same path: one response per page, in order.
      const stream = client.recognizePages();
      const answered: RecognizePageResponse[] = [];
      const done = new Promise<void>((resolve, reject) => {
        stream.on('data', (r: RecognizePageResponse) => answered.push(r));
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      for (const modelSet of ['synth-ben', 'synth']) stream.write(request(modelSet, raw, false));
      stream.end();
      await done;
      assert.deepEqual(answered.map(probabilities), [probabilities(benServed), probabilities(none)]);
    } finally {
      client.close();
      await path.close();
      await store.close();
    }
  });

  it('exits 2 naming the problem for a bad threshold', async () => {
    const threshold = await kzr('recognize', pagePath, '--detections', detectionFiles[0]!, '--threshold', '2');
    assert.equal(threshold.code, 2);
    assert.match(threshold.stderr, /--threshold/);
  });
});
