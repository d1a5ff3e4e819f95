import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MediaType } from '@kzr/api/kzr/v1/common';
import {
  type ClassifyCropsRequest,
  type ClassifyCropsResponse,
  InferenceClient,
  Voting,
  type RecognizePageRequest,
} from '@kzr/api/kzr/v1/inference';
import { protoRoot } from '@kzr/api/proto-root';
import { encodePng, type RawImage } from '@kzr/imaging';
import { createLogger, GrpcServer } from '@kzr/platform';
import { publishModelSet } from '@kzr/artifacts';

import { createInferenceServing, type InferenceServing } from '../src/create.js';
import {
  counterSum,
  installMetricReader,
  seededModel,
  syntheticCrop,
  tempStore,
  testCodes,
  tinyInput,
  tinyResnet,
  tinySeResNeXt,
} from './helpers.js';

const silent = createLogger({ write: () => {} });

const collectMetrics = installMetricReader();

type Store = Awaited<ReturnType<typeof tempStore>>;
let store: Store;
let runtime: InferenceServing;
let server: GrpcServer;
let client: InferenceClient;
let oip: grpc.Client & Record<string, (req: unknown, cb: (err: grpc.ServiceError | null, res: never) => void) => void>;

// A synthetic page: dark blobs in two vertical columns on light paper.
function page(): { image: RawImage; boxes: Array<{ x: number; y: number; width: number; height: number }> } {
  const width = 120;
  const height = 160;
  const data = new Uint8Array(width * height * 3).fill(225);
  const boxes: Array<{ x: number; y: number; width: number; height: number }> = [];
  for (const cx of [90, 40]) {
    for (let r = 0; r < 4; r++) {
      const box = { x: cx - 12, y: 10 + r * 36, width: 24, height: 28 };
      boxes.push(box);
      for (let y = box.y + 4; y < box.y + box.height - 4; y++) {
        for (let x = box.x + 4; x < box.x + box.width - 4; x++) {
          if ((x * 7 + y * (r + 2)) % 9 < 4) data.fill(40, (y * width + x) * 3, (y * width + x) * 3 + 3);
        }
      }
    }
  }
  return { image: { width, height, channels: 3, data }, boxes };
}

function call<Q, R>(
  fn: (q: Q, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: R) => void) => unknown,
  q: Q,
  deadlineMs = 30_000,
): Promise<R> {
  return new Promise((resolve, reject) => {
    fn(q, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r)));
  });
}

function oipCall<R>(method: string, request: unknown): Promise<R> {
  return new Promise((resolve, reject) => {
    oip[method]!(request, (e, r: R) => (e ? reject(e) : resolve(r)));
  });
}

before(async () => {
  store = await tempStore();
  const a = seededModel(tinyResnet, 1);
  const b = seededModel(tinySeResNeXt, 2);
  await publishModelSet(store, {
    modelSet: 'tiny',
    version: 'v1',
    codes: testCodes,
    members: [
      { name: 'a', kind: 'kzr', model: a, input: tinyInput(1) },
      { name: 'b', kind: 'kzr', model: b, input: tinyInput(3) },
    ],
  });
  a.dispose();
  b.dispose();
  runtime = createInferenceServing({
    store,
    logger: silent,
    limits: { maxCropsPerRequest: 16, maxPagePixels: 200 * 200 },
  });
  await runtime.registry.activate('tiny', 'v1');
  server = await GrpcServer.start({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    services: runtime.services,
    reflectionProtoFiles: [],
    protoIncludeDirs: [protoRoot],
    logger: silent,
  });
  client = new InferenceClient(server.endpoint, grpc.credentials.createInsecure());
  // A generic OIP client: proto-loader on proto/inference/v2 alone, nothing from kzr.
  const def = protoLoader.loadSync(join(protoRoot, 'inference/v2/grpc_predict_v2.proto'), {
    keepCase: true,
    longs: Number,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    inference: { GRPCInferenceService: new (address: string, creds: grpc.ChannelCredentials) => typeof oip };
  };
  oip = new pkg.inference.GRPCInferenceService(server.endpoint, grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  oip?.close();
  await server?.shutdown(1000);
  await runtime?.close();
  await store?.[Symbol.asyncDispose]();
});

describe('Open Inference Protocol v2', () => {
  it('reports liveness, readiness and metadata to a generic client', async () => {
    assert.deepEqual(await oipCall('ServerLive', {}), { live: true });
    assert.deepEqual(await oipCall('ServerReady', {}), { ready: true });
    assert.deepEqual(await oipCall('ModelReady', { name: 'tiny', version: '' }), { ready: true });
    assert.deepEqual(await oipCall('ModelReady', { name: 'tiny', version: 'v0' }), { ready: false });
    const md = await oipCall<{
      name: string;
      versions: string[];
      inputs: Array<{ name: string; datatype: string; shape: number[] }>;
      outputs: Array<{ name: string; datatype: string; shape: number[] }>;
    }>('ModelMetadata', { name: 'tiny' });
    assert.equal(md.name, 'tiny');
    assert.deepEqual(md.versions, ['v1']);
    assert.deepEqual(md.inputs, [{ name: 'crops', datatype: 'UINT8', shape: [-1, 34, 34, 3] }]);
    assert.deepEqual(md.outputs[0], { name: 'probabilities', datatype: 'FP32', shape: [-1, testCodes.length] });
  });

  it('returns probabilities that sum to 1 for UINT8 raw and FP32 typed inputs', async () => {
    const n = 3;
    const crops = [1, 2, 3].map((s) => syntheticCrop(s, 34, 34, 3));
    const raw = Buffer.concat(crops.map((c) => Buffer.from(c.data)));
    for (const voting of ['soft', 'hard']) {
      const res = await oipCall<{
        model_version: string;
        id: string;
        outputs: Array<{ name: string; shape: number[] }>;
        raw_output_contents: Buffer[];
      }>('ModelInfer', {
        model_name: 'tiny',
        id: 'req-1',
        parameters: { voting: { string_param: voting }, tta: { bool_param: true } },
        inputs: [{ name: 'crops', datatype: 'UINT8', shape: [n, 34, 34, 3] }],
        raw_input_contents: [raw],
      });
      assert.equal(res.model_version, 'v1');
      assert.equal(res.id, 'req-1');
      assert.deepEqual(res.outputs[0]!.shape, [n, testCodes.length]);
      const buf = res.raw_output_contents[0]!;
      const probs = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      for (let i = 0; i < n; i++) {
        const sum = probs.subarray(i * testCodes.length, (i + 1) * testCodes.length).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} sums to ${sum}`);
      }
    }
    const typed = await oipCall<{
      outputs: Array<{ name: string; contents: { fp32_contents: number[]; bytes_contents: Buffer[] } }>;
    }>('ModelInfer', {
      model_name: 'tiny',
      inputs: [
        {
          name: 'crops',
          datatype: 'FP32',
          shape: [1, 34, 34, 3],
          contents: { fp32_contents: Array.from(crops[0]!.data, (v) => v / 255) },
        },
      ],
    });
    const p = typed.outputs.find((o) => o.name === 'probabilities')!.contents.fp32_contents;
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const label = typed.outputs.find((o) => o.name === 'labels')!.contents.bytes_contents[0]!.toString();
    assert.ok(testCodes.includes(label));
  });

  it('names bad tensors and unknown models in its errors', async () => {
    await assert.rejects(
      oipCall('ModelInfer', {
        model_name: 'tiny',
        inputs: [{ name: 'crops', datatype: 'UINT8', shape: [1, 20, 20, 3] }],
        raw_input_contents: [Buffer.alloc(1200)],
      }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /34x34/.test(e.details),
    );
    await assert.rejects(
      oipCall('ModelInfer', {
        model_name: 'tiny',
        inputs: [{ name: 'crops', datatype: 'UINT8', shape: [1, 34, 34, 3] }],
        raw_input_contents: [Buffer.alloc(10)],
      }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /raw_input_contents\[0\]/.test(e.details),
    );
    await assert.rejects(
      oipCall('ModelInfer', {
        model_name: 'tiny',
        inputs: [{ name: 'crops', datatype: 'INT64', shape: [1, 34, 34, 3] }],
      }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /datatype/.test(e.details),
    );
    // An int64 above 2^53 cannot be decoded to a number: INVALID_ARGUMENT, not INTERNAL (issue 22).
    await assert.rejects(
      oipCall('ModelInfer', {
        model_name: 'tiny',
        inputs: [{ name: 'crops', datatype: 'UINT8', shape: ['9007199254740993', 34, 34, 3] }],
      }),
      (e: grpc.ServiceError) =>
        e.code === grpc.status.INVALID_ARGUMENT && /^request: cannot be decoded: /.test(e.details),
    );
    await assert.rejects(
      oipCall('ModelMetadata', { name: 'nope' }),
      (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND,
    );
    // A set whose first version is still loading answers UNAVAILABLE (and is not ready).
    const loading = runtime.registry.activate('tiny-copy', 'v1');
    await assert.rejects(
      oipCall('ModelMetadata', { name: 'tiny-copy' }),
      (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE,
    );
    assert.deepEqual(await oipCall('ModelReady', { name: 'tiny-copy', version: '' }), { ready: false });
    await assert.rejects(loading, { name: 'ModelLoadError' }); // no such version in the Store
  });
});

describe('kzr.v1.Inference', () => {
  it('classifies crops with top-k labels and names the serving version', async () => {
    const crops = await Promise.all([1, 2].map((s) => encodePng(syntheticCrop(s))));
    const res = await call<ClassifyCropsRequest, ClassifyCropsResponse>(client.classifyCrops.bind(client), {
      model: { modelSet: 'tiny', version: '' },
      crops: crops.map((data) => ({ data, mediaType: MediaType.MEDIA_TYPE_PNG })),
      topK: 3,
      voting: Voting.VOTING_SOFT,
    });
    assert.deepEqual(res.servedBy, { modelSet: 'tiny', version: 'v1' });
    assert.equal(res.results.length, 2);
    for (const r of res.results) {
      assert.equal(r.top.length, 3);
      assert.ok(r.top[0]!.probability >= r.top[1]!.probability);
      assert.equal(r.top[0]!.character, String.fromCodePoint(parseInt(r.top[0]!.code.slice(2), 16)));
    }
  });

  it('enforces the crop limit, the media type and the deadline', async () => {
    const png = await encodePng(syntheticCrop(1));
    const many = Array.from({ length: 17 }, () => ({ data: png, mediaType: MediaType.MEDIA_TYPE_PNG }));
    await assert.rejects(
      call(client.classifyCrops.bind(client), {
        model: { modelSet: 'tiny', version: '' },
        crops: many,
        topK: 1,
        voting: 0,
      }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /crops/.test(e.details),
    );
    await assert.rejects(
      call(client.classifyCrops.bind(client), {
        model: { modelSet: 'tiny', version: '' },
        crops: [{ data: png, mediaType: MediaType.MEDIA_TYPE_JPEG }],
        topK: 1,
        voting: 0,
      }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /media_type/.test(e.details),
    );
    // A decode error of imaging reaches the client as INVALID_ARGUMENT naming the crop, untranslated.
    await assert.rejects(
      call(client.classifyCrops.bind(client), {
        model: { modelSet: 'tiny', version: '' },
        crops: [
          { data: png, mediaType: MediaType.MEDIA_TYPE_PNG },
          { data: png.subarray(0, 60), mediaType: MediaType.MEDIA_TYPE_PNG },
        ],
        topK: 1,
        voting: 0,
      }),
      (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.match(e.details, /^crops\[1\]: corrupt png image/);
        assert.deepEqual(e.metadata.get('kzr-field'), ['crops[1]']);
        return true;
      },
    );
    await assert.rejects(
      call(client.classifyCrops.bind(client), {
        model: { modelSet: 'other', version: '' },
        crops: [{ data: png, mediaType: 0 }],
        topK: 1,
        voting: 0,
      }),
      (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND,
    );
    const sixteen = Array.from({ length: 16 }, () => ({ data: png, mediaType: MediaType.MEDIA_TYPE_PNG }));
    await assert.rejects(
      call(
        client.classifyCrops.bind(client),
        { model: { modelSet: 'tiny', version: '' }, crops: sixteen, topK: 1, voting: 0 },
        5,
      ),
      (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED,
    );
  });

  it('records request latency, batch sizes, queue depth and requests by status and version', async () => {
    const names = await collectMetrics();
    const requests = names.get('kzr.inference.requests');
    assert.ok(counterSum(requests, { method: 'ClassifyCrops', status: 'ok' }) >= 1);
    assert.ok(counterSum(requests, { method: 'ClassifyCrops', status: 'invalid' }) >= 2);
    assert.ok(counterSum(requests, { model_set: 'tiny', version: 'v1' }) >= 3);
    const batches = names.get('kzr.inference.batch.size')?.dataPoints as Array<{ value: { count: number } }>;
    assert.ok(batches.reduce((n, p) => n + p.value.count, 0) > 0);
    for (const name of [
      'kzr.inference.request.duration',
      'kzr.inference.requests',
      'kzr.inference.batch.size',
      'kzr.inference.queue.depth',
    ]) {
      assert.ok(names.has(name), `${name} is exported`);
    }
  });

  // RecognizePage's page path (preprocess and postprocess services) is tested in test/page-path.test.ts.
  it('rejects boxes outside the page before calling another service, naming the detection', async () => {
    const { image } = page();
    const data = await encodePng(image);
    await assert.rejects(
      call(client.recognizePage.bind(client), {
        model: { modelSet: 'tiny', version: '' },
        pageId: 'p',
        image: { source: { $case: 'encoded', value: { data, mediaType: 0 } } },
        preprocessed: true,
        detectionSets: [
          { name: 'a', pageId: '', detections: [{ box: { x: 100, y: 10, width: 50, height: 20 }, score: 1 }] },
        ],
        voting: 0,
        lowConfidenceThreshold: 0,
        filterVersion: '',
        unfiltered: false,
      }),
      (e: grpc.ServiceError) =>
        e.code === grpc.status.INVALID_ARGUMENT && /detection_sets\[0\]\.detections\[0\]\.box/.test(e.details),
    );
  });

  it('rejects a NaN threshold and a page id that is not one, instead of taking a default or a path (issue 22)', async () => {
    const { image } = page();
    const data = await encodePng(image);
    const request: RecognizePageRequest = {
      model: { modelSet: 'tiny', version: '' },
      pageId: 'p',
      image: { source: { $case: 'encoded', value: { data, mediaType: MediaType.MEDIA_TYPE_UNSPECIFIED } } },
      preprocessed: true,
      detectionSets: [],
      voting: 0,
      lowConfidenceThreshold: 0,
      filterVersion: '',
      unfiltered: false,
    };
    await assert.rejects(
      call(client.recognizePage.bind(client), { ...request, lowConfidenceThreshold: NaN }),
      (e: grpc.ServiceError) =>
        e.code === grpc.status.INVALID_ARGUMENT &&
        e.details === 'low_confidence_threshold: expected a value in [0, 1], got NaN',
    );
    await assert.rejects(
      call(client.recognizePage.bind(client), { ...request, pageId: '../../x' }),
      (e: grpc.ServiceError) =>
        e.code === grpc.status.INVALID_ARGUMENT && /^page_id: expected a page id/.test(e.details),
    );
  });
});
