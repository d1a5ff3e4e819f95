/**
 * The page path across three processes (DESIGN.md "The page path"): preprocess, inference and
 * postprocess each run from their standalone main on real nats-server and an S3 server. A tiny
 * model set and a false-positive filter fitted on other books are published; RecognizePage on
 * held-out synthetic pages is merged and filtered by postprocess, and one trace spans the three
 * services (spans exported over OTLP/HTTP to a collector in this test).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import {
  InferenceClient,
  type RecognizePageRequest,
  type RecognizePageResponse,
  Voting,
} from '@kzr/api/kzr/v1/inference';
import { encodePng } from '@kzr/imaging';
import { loadCheckpointMember, PagePreprocessing, publishModelSet, StoreFilterRepository } from '@kzr/artifacts';
import {
  type CharLabel,
  type DetectionSet,
  type PageLabels,
  parseSubmissionCsv,
  parseTrainCsv,
  scoreSubmission,
  toDetectionSet,
} from '@kzr/core';
import type { ClassifiedPage } from '@kzr/core/postprocess';
import { fitFilterSteps } from '@kzr/gbdt';
import { EventSubject, NatsBus, S3Store } from '@kzr/platform';
import { checkHealth, freePort, NatsServer, S3Server, waitForExit } from '@kzr/testkit';

import { syntheticCrops } from './helpers/synthetic-crops.js';
import { trainTinyModel } from './helpers/tiny-model.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** A span as the OTLP/HTTP JSON exporter sends it. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  status?: { code?: number; message?: string };
}

/** OTLP's SPAN_KIND_SERVER and SPAN_KIND_CLIENT. */
const serverKind = 2;
const clientKind = 3;

let nats: NatsServer;
let s3: S3Server;
let dir: string;
let store: S3Store;
let bus: NatsBus;
let collector: Server;
const spans: OtlpSpan[] = [];
const children = new Map<string, ChildProcess>();
let inferenceEndpoint: string;
let truth: Map<string, readonly CharLabel[]>;
let sets: DetectionSet[];
let filterPages: string[];
let heldOutPages: string[];

/** A small OTLP/HTTP trace receiver: keeps every span posted to /v1/traces. */
async function startCollector(): Promise<string> {
  collector = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const doc = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const r of doc.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
}

function startMain(service: string, env: Record<string, string>): void {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', `./services/${service}/src/instrumentation.ts`, `services/${service}/src/main.ts`],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  child.once('exit', (code) => {
    if (code !== null && code !== 0) console.error(`${service} exited ${code}: ${stderr}`);
  });
  children.set(service, child);
}

async function serving(endpoint: string, service: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await checkHealth(endpoint, service, 1000).catch(() => 'DOWN')) === 'SERVING') return;
    await sleep(100);
  }
  throw new Error(`${service} at ${endpoint} never served`);
}

function recognize(
  client: InferenceClient,
  pageId: string,
  image: Uint8Array,
  options: {
    modelSet?: string;
    unfiltered?: boolean;
    detectionSets?: RecognizePageRequest['detectionSets'];
    deadlineMs?: number;
  } = {},
): Promise<RecognizePageResponse> {
  const request: RecognizePageRequest = {
    model: { modelSet: options.modelSet ?? 'tiny', version: '' },
    pageId,
    image: { source: { $case: 'encoded', value: { data: image, mediaType: MediaType.MEDIA_TYPE_UNSPECIFIED } } },
    preprocessed: false,
    detectionSets:
      options.detectionSets ??
      sets.map((s) => ({
        name: s.name,
        pageId,
        detections: s.pages
          .find((p) => p.pageId === pageId)!
          .detections.map((d) => ({ box: { x: d.x, y: d.y, width: d.width, height: d.height }, score: d.score })),
      })),
    voting: Voting.VOTING_UNSPECIFIED,
    lowConfidenceThreshold: 0,
    filterVersion: '',
    unfiltered: options.unfiltered ?? false,
  };
  return new Promise((resolve, reject) =>
    client.recognizePage(
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + (options.deadlineMs ?? 60_000) },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

function pageImage(pageId: string): Promise<Buffer> {
  return readFile(join(dir, 'books', 'train_images', `${pageId}.jpg`));
}

/** TP / FP / FN and F1 of recognised pages against the truth. */
function score(pages: readonly RecognizePageResponse[]): ReturnType<typeof scoreSubmission> {
  const csv = ['image_id,labels', ...pages.map((p) => `${p.pageId},${p.kaggleLabels}`)].join('\n');
  const truthPages: PageLabels[] = pages.map((p) => ({ pageId: p.pageId, labels: [...truth.get(p.pageId)!] }));
  return scoreSubmission(truthPages, parseSubmissionCsv(`${csv}\n`));
}

before(async () => {
  [nats, s3] = await Promise.all([NatsServer.start(), S3Server.start({ buckets: ['kzr'] })]);
  dir = await mkdtemp(join(tmpdir(), 'kzr-page-path-'));
  const otlp = await startCollector();
  // Arrange: synthetic books, a tiny model trained on three of them, published as two sets that
  // differ only in the page preprocessing their manifests record.
  // Three held-out books the model never saw (in the training books' font families, as in a
  // book-held-out split): the filter is fitted on two, the third is recognised.
  const crops = await syntheticCrops(dir, {
    classes: 6,
    pagesPerBook: 6,
    seed: 14,
    trainBooks: 3,
    holdoutBooks: 3,
    seenFonts: true,
  });
  const checkpoint = await trainTinyModel(dir, crops, 6, {
    ...process.env,
    KZR_DATA_DIR: join(dir, 'data'),
    KZR_TF_BACKEND: 'wasm',
  });
  truth = new Map(
    parseTrainCsv(await readFile(join(dir, 'books', 'train.csv'), 'utf8')).map((p) => [p.pageId, p.labels]),
  );
  filterPages = [...crops.holdoutPages[0]!, ...crops.holdoutPages[1]!].sort();
  heldOutPages = [...crops.holdoutPages[2]!].sort();
  const detDir = join(dir, 'books', 'detections');
  sets = await Promise.all(
    (await readdir(detDir))
      .filter((f) => f.endsWith('.json'))
      .map(async (f) => toDetectionSet(JSON.parse(await readFile(join(detDir, f), 'utf8')), f)),
  );
  store = await S3Store.connect({
    endpoint: s3.endpoint,
    accessKey: S3Server.accessKey,
    secretKey: S3Server.secretKey,
    bucket: 'kzr',
  });
  bus = await NatsBus.connect({ servers: nats.url, name: 'page-path-test' });
  const member = await loadCheckpointMember(checkpoint);
  try {
    for (const [modelSet, pagePreprocessing] of [
      ['tiny', PagePreprocessing.None],
      ['tiny-ben', PagePreprocessing.BenDenoise],
    ] as const) {
      await publishModelSet(store, {
        modelSet,
        version: 'v1',
        codes: member.classes,
        members: [{ name: 'm', kind: 'kzr', model: member.model, input: member.input }],
        pagePreprocessing,
      });
    }
  } finally {
    member.model.dispose();
  }

  // The three services, each from its own main, on the Bus and Store above.
  const [preprocessPort, inferencePort, postprocessPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const shared = {
    KZR_BUS: 'nats',
    KZR_NATS_URL: nats.url,
    KZR_STORE: 's3',
    KZR_S3_ENDPOINT: s3.endpoint,
    KZR_S3_ACCESS_KEY: S3Server.accessKey,
    KZR_S3_SECRET_KEY: S3Server.secretKey,
    KZR_S3_BUCKET: 'kzr',
    KZR_DATA_DIR: join(dir, 'services'),
    KZR_TF_BACKEND: 'wasm',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  startMain('preprocess', { ...shared, KZR_GRPC_PORT: String(preprocessPort) });
  startMain('postprocess', { ...shared, KZR_GRPC_PORT: String(postprocessPort) });
  startMain('inference', {
    ...shared,
    KZR_GRPC_PORT: String(inferencePort),
    KZR_INFERENCE_MODEL_SETS: 'tiny,tiny-ben',
    KZR_PREPROCESS_ENDPOINT: `127.0.0.1:${preprocessPort}`,
    KZR_POSTPROCESS_ENDPOINT: `127.0.0.1:${postprocessPort}`,
  });
  inferenceEndpoint = `127.0.0.1:${inferencePort}`;
  await Promise.all([
    serving(`127.0.0.1:${preprocessPort}`, 'kzr.v1.Preprocess'),
    serving(`127.0.0.1:${postprocessPort}`, 'kzr.v1.Postprocess'),
    serving(inferenceEndpoint, ''),
  ]);
});

after(async () => {
  for (const child of children.values())
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await bus?.close();
  await store?.close();
  await new Promise((resolve) => collector?.close(resolve));
  await Promise.all([nats?.[Symbol.asyncDispose](), s3?.[Symbol.asyncDispose]()]);
  await rm(dir, { recursive: true, force: true });
});

describe('the page path across three services', () => {
  it('filters held-out pages with a filter fitted on other books, names both versions, and traces one request through all three', async () => {
    const client = new InferenceClient(inferenceEndpoint, grpc.credentials.createInsecure());
    try {
      // No filter yet: the page comes back merged and marked unfiltered.
      const first = await recognize(client, heldOutPages[0]!, await pageImage(heldOutPages[0]!));
      assert.equal(first.filterVersion, 'unfiltered');
      assert.deepEqual([first.pageWidth, first.pageHeight], [600, 800]);

      // A filter fitted on another held-out book's merged candidates, stored and announced on the Bus.
      const candidates: ClassifiedPage[] = [];
      for (const pageId of filterPages) {
        const page = await recognize(client, pageId, await pageImage(pageId), { unfiltered: true });
        candidates.push({
          pageId,
          width: page.pageWidth,
          height: page.pageHeight,
          boxes: page.characters.map((c) => ({
            ...c.box!,
            code: c.code,
            probability: c.probability,
            score: c.detectorScore,
          })),
        });
      }
      const steps = fitFilterSteps(candidates, truth, { folds: 5, seed: 7 });
      let next = steps.next();
      while (next.done !== true) next = steps.next();
      const fitted = next.value;
      const version = 'f-page-path';
      const keys = await new StoreFilterRepository(store).save(
        {
          version,
          boosters: fitted.boosters,
          featureNames: fitted.boosters[0]!.featureNames,
          threshold: fitted.threshold,
        },
        fitted.fit,
      );
      await bus.publish(
        EventSubject.FilterPublished,
        { meta: undefined, version, threshold: fitted.threshold, ...keys },
        { id: `filter-${version}` },
      );

      // Act: the held-out pages, filtered (once postprocess has swapped) and unfiltered.
      const images = await Promise.all(heldOutPages.map(pageImage));
      let filtered: RecognizePageResponse[] = [];
      for (let i = 0; i < 100; i++) {
        filtered = [];
        for (const [k, pageId] of heldOutPages.entries()) filtered.push(await recognize(client, pageId, images[k]!));
        if (filtered.every((p) => p.filterVersion === version)) break;
        await sleep(100);
      }
      const unfiltered: RecognizePageResponse[] = [];
      for (const [k, pageId] of heldOutPages.entries()) {
        unfiltered.push(await recognize(client, pageId, images[k]!, { unfiltered: true }));
      }

      // Assert: both versions named; the filter removes at least half the false positives NMS left.
      for (const page of filtered) {
        assert.equal(page.filterVersion, version);
        assert.deepEqual(page.servedBy, { modelSet: 'tiny', version: 'v1' });
      }
      const before = score(unfiltered);
      const afterFilter = score(filtered);
      console.log(
        `page path, ${heldOutPages.length} held-out pages: unfiltered TP ${before.tp} FP ${before.fp} FN ${before.fn} ` +
          `F1 ${before.f1.toFixed(4)}; filtered TP ${afterFilter.tp} FP ${afterFilter.fp} FN ${afterFilter.fn} ` +
          `F1 ${afterFilter.f1.toFixed(4)}`,
      );
      assert.ok(before.fp - afterFilter.fp >= before.fp / 2, `FP ${before.fp} -> ${afterFilter.fp}`);
      assert.ok(afterFilter.f1 >= before.f1, `F1 ${before.f1} -> ${afterFilter.f1}`);

      // One request of a set trained on Ben + denoise pages goes through all three services.
      const traced = await recognize(client, heldOutPages[0]!, images[0]!, { modelSet: 'tiny-ben' });
      assert.deepEqual(traced.servedBy, { modelSet: 'tiny-ben', version: 'v1' });

      // The caller's deadline carries over to inference's call to preprocess (which sets none of
      // its own): a page too big to preprocess in time cancels that call with the RecognizePage call.
      const side = 1600;
      const pixels = Uint8Array.from({ length: side * side * 3 }, (_, i) => (i % 251) ^ ((i / 7919) & 255));
      const big = await encodePng({ width: side, height: side, channels: 3, data: pixels });
      const late = await recognize(client, 'big_1', big, {
        modelSet: 'tiny-ben',
        detectionSets: [
          { name: 'one', pageId: '', detections: [{ box: { x: 10, y: 10, width: 40, height: 40 }, score: 1 }] },
        ],
        deadlineMs: 1000,
      }).then(
        () => undefined,
        (err: grpc.ServiceError) => err,
      );
      assert.equal(late?.code, grpc.status.DEADLINE_EXCEEDED, late?.details);
    } finally {
      client.close();
    }
    // The mains drain on SIGTERM and flush their spans.
    for (const child of children.values()) child.kill('SIGTERM');
    for (const [service, child] of children) {
      assert.deepEqual(await waitForExit(child, 15_000), { code: 0, signal: null }, service);
    }
    const server = (name: string): OtlpSpan[] => spans.filter((s) => s.kind === serverKind && s.name === name);
    const preprocess = server('grpc.kzr.v1.Preprocess/PreprocessPage').filter((s) => (s.status?.code ?? 0) === 0);
    assert.equal(preprocess.length, 1, 'only the tiny-ben request in time had its page preprocessed');
    // The late request's call to preprocess was cancelled with its parent, the RecognizePage call.
    const cancelled = spans.filter(
      (s) => s.kind === clientKind && s.name === 'grpc.kzr.v1.Preprocess/PreprocessPage' && s.status?.code === 2,
    );
    assert.equal(cancelled.length, 1);
    const lateRoot = server('grpc.kzr.v1.Inference/RecognizePage').find((s) => s.traceId === cancelled[0]!.traceId);
    // The server span ends with whichever the server saw first: the deadline or the child's cancellation.
    assert.match(lateRoot?.status?.message ?? '', /cancelled by parent call|deadline exceeded/i);
    const root = server('grpc.kzr.v1.Inference/RecognizePage').find((s) => s.traceId === preprocess[0]!.traceId);
    assert.ok(root, `spans: ${JSON.stringify(spans.map((s) => [s.name, s.kind]))}`);
    const finalize = server('grpc.kzr.v1.Postprocess/FinalizePage').find((s) => s.traceId === root.traceId);
    assert.ok(finalize);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const descends = (span: OtlpSpan): boolean => {
      for (let at = span.parentSpanId; at; at = byId.get(at)?.parentSpanId) if (at === root.spanId) return true;
      return false;
    };
    assert.ok(descends(preprocess[0]!), 'PreprocessPage descends from RecognizePage');
    assert.ok(descends(finalize), 'FinalizePage descends from RecognizePage');
    assert.ok(
      BigInt(preprocess[0]!.startTimeUnixNano) < BigInt(finalize.startTimeUnixNano),
      'PreprocessPage started before FinalizePage',
    );
  });
});
