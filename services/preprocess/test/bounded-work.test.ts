// Bounded work (issue 22, findings 1 and 3): CropCharacters is checked against its budget before
// any crop is cut, cuts lazily off the event loop, and PreprocessPage stops at its deadline; while
// the largest allowed request runs, health on every port of the process answers within 200 ms.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import {
  type CropCharactersRequest,
  type CropCharactersResponse,
  PaddingPolicy,
  PreprocessClient,
} from '@kzr/api/kzr/v1/preprocess';
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { cutCharacter, encodePng, PaddingPolicy as Padding, type RawImage } from '@kzr/imaging';
import { type CallContext, createLogger, GrpcServer } from '@kzr/platform';
import { type HealthClient, openHealthClient } from '@kzr/testkit';

import { createPreprocessService, preprocessHandlers, type PreprocessLimits } from '@kzr/preprocess';

const silent = createLogger({ write: () => {} });

/** A page that compresses well: a gradient with dark vertical strokes. */
function page(width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = x % 41 < 4 ? 30 : 180 + ((x + y) % 50);
      data.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { width, height, channels: 3, data };
}

const limits: PreprocessLimits = {
  maxPagePixels: 16_000_000,
  maxBoxesPerRequest: 20_000,
  maxCropSize: 1024,
  // Small enough for a short test; what is checked (the work per turn of the event loop) does not
  // depend on the budget.
  maxCropPixelsPerRequest: 12_000_000,
  maxCropsPerMessage: 256,
  maxMessageBytes: 64 * 1024 ** 2,
  threads: 2,
};

const inline = (data: Uint8Array) => ({
  source: { $case: 'encoded' as const, value: { data, mediaType: MediaType.MEDIA_TYPE_PNG } },
});

let preprocessServer: GrpcServer;
let otherServer: GrpcServer;
let client: PreprocessClient;
let health: HealthClient[];
let smallPng: Buffer;

before(async () => {
  smallPng = await encodePng(page(64, 48));
  const start = (services: Parameters<typeof GrpcServer.start>[0]['services']) =>
    GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: limits.maxMessageBytes,
      services,
      reflectionProtoFiles: [kzrProtoFiles.preprocess],
      protoIncludeDirs: [protoRoot],
      logger: silent,
    });
  preprocessServer = await start([createPreprocessService(silent, { limits })]);
  // A second port of the same process, as in one-machine mode where all services share it.
  otherServer = await start([]);
  health = [openHealthClient(preprocessServer.endpoint), openHealthClient(otherServer.endpoint)];
  client = new PreprocessClient(preprocessServer.endpoint, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': limits.maxMessageBytes,
  });
});

after(async () => {
  client.close();
  for (const h of health) h.close();
  await preprocessServer[Symbol.asyncDispose]();
  await otherServer[Symbol.asyncDispose]();
});

function cropRequest(request: Partial<CropCharactersRequest>): CropCharactersRequest {
  return {
    image: undefined,
    boxes: [],
    padding: PaddingPolicy.PADDING_POLICY_UNSPECIFIED,
    size: 0,
    channels: 0,
    maxCropsPerMessage: 0,
    ...request,
  };
}

function crop(request: Partial<CropCharactersRequest>, deadlineMs = 30_000): Promise<CropCharactersResponse[]> {
  return new Promise((resolve, reject) => {
    const out: CropCharactersResponse[] = [];
    const call = client.cropCharacters(cropRequest(request), { deadline: Date.now() + deadlineMs });
    call.on('data', (m: CropCharactersResponse) => out.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

async function statusOf(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return (await p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  )) as grpc.ServiceError;
}

/** Checks health on both ports every 50 ms until `work` settles; returns the slowest answer in ms. */
async function slowestHealthDuring(work: Promise<unknown>): Promise<number> {
  let done = false;
  const settled = work.finally(() => (done = true));
  let slowest = 0;
  let checks = 0;
  while (!done) {
    for (const port of health) {
      const t0 = performance.now();
      assert.equal(await port.check('', 2000), 'SERVING');
      slowest = Math.max(slowest, performance.now() - t0);
      checks++;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await settled;
  assert.ok(checks >= 4, `only ${checks} health checks ran`);
  return slowest;
}

describe('bounded work in the preprocess service', () => {
  it('refuses the 3 KB request of 40 crops of 4096x4096 at once, naming the limit (finding 1)', async () => {
    const t0 = performance.now();
    const boxes = Array.from({ length: 40 }, (_, i) => ({ x: i, y: 0, width: 20, height: 20 }));
    const tooBig = await statusOf(crop({ image: inline(smallPng), boxes, size: 4096, channels: 3 }));
    assert.equal(tooBig.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(tooBig.details, 'size: crops of 4096x4096 exceed KZR_PREPROCESS_MAX_CROP_SIZE = 1024');
    const many = Array.from({ length: 200 }, (_, i) => ({ x: i % 40, y: 0, width: 20, height: 20 }));
    const overBudget = await statusOf(crop({ image: inline(smallPng), boxes: many, size: 1024 }));
    assert.equal(overBudget.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(
      overBudget.details,
      /^boxes: 200 crops of 1024x1024 \(209715200 pixels\) exceed KZR_PREPROCESS_MAX_CROP_PIXELS/,
    );
    assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
  });

  it('counts the pixels read too: native crops of a whole page over the budget are refused before cutting', async () => {
    const bigPng = await encodePng(page(2000, 2000));
    const wholePage = Array.from({ length: 4 }, () => ({ x: 0, y: 0, width: 2000, height: 2000 }));
    const err = await statusOf(crop({ image: inline(bigPng), boxes: wholePage, size: 0 }));
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(
      err.details,
      'boxes: 4 crops reading and writing 32000000 pixels exceed KZR_PREPROCESS_MAX_CROP_PIXELS = 12000000',
    );
  });

  it('keeps health on every port answering within 200 ms while the largest allowed CropCharacters runs', async () => {
    // 11 crops of 1024x1024 from small boxes: 11.5 M pixels written, just under the budget.
    const boxes = Array.from({ length: 11 }, (_, i) => ({ x: i * 2, y: 2, width: 20, height: 30 }));
    const work = crop({ image: inline(smallPng), boxes, size: 1024, channels: 3 });
    const slowest = await slowestHealthDuring(work);
    const crops = (await work).flatMap((m) => m.crops);
    assert.equal(crops.length, 11);
    assert.deepEqual(
      crops.map((c) => c.boxIndex),
      [...boxes.keys()],
    );
    // Cut on the worker threads, the pixels are cutCharacter's.
    crops.forEach((c, i) => {
      const expected = cutCharacter(page(64, 48), boxes[i]!, { policy: Padding.Train, size: 1024, channels: 3 });
      assert.ok(Buffer.from(c.pixels).equals(expected.image.data), `crop ${i}`);
    });
    assert.ok(slowest < 200, `slowest health answer ${slowest.toFixed(0)} ms`);
  });

  it('cuts lazily and stops cutting when the call is cancelled', async () => {
    const handlers = preprocessHandlers({ ...limits, maxCropsPerMessage: 1 });
    const controller = new AbortController();
    const ctx = { signal: controller.signal } as CallContext;
    const boxes = Array.from({ length: 11 }, () => ({ x: 2, y: 2, width: 20, height: 30 }));
    const stream = handlers.cropCharacters!(cropRequest({ image: inline(smallPng), boxes, size: 1024 }), ctx)[
      Symbol.asyncIterator
    ]();
    const first = await stream.next();
    assert.equal(first.done, false);
    controller.abort(new Error('cancelled by the test'));
    await assert.rejects(stream.next(), /cancelled by the test/);
  });

  it('stops PreprocessPage at its deadline instead of denoising on (finding 3), and health stays fast', async () => {
    const bigPng = await encodePng(page(4000, 4000));
    const t0 = performance.now();
    const call = new Promise((resolve, reject) =>
      client.preprocessPage(
        { image: inline(bigPng), skipBen: false, skipDenoise: false },
        new grpc.Metadata(),
        { deadline: Date.now() + 1500 },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
    const slowest = await slowestHealthDuring(call.catch(() => {}));
    const err = await statusOf(call);
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(slowest < 200, `slowest health answer ${slowest.toFixed(0)} ms`);
    // Strips already running finish (a fraction of a second each); then the workers are idle.
    // Before the fix the 16 M pixel page went on for about 19 CPU-seconds (10 s on two threads).
    await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (performance.now() - t0))));
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    assert.ok(cpuMs < 300, `the process still burned ${cpuMs.toFixed(0)} ms of CPU in 1 s after the deadline`);
  });
});
