import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { datasetPageKey } from '@kzr/artifacts';
import { MediaType } from '@kzr/api/kzr/v1/common';
import {
  type CropCharactersRequest,
  type CropCharactersResponse,
  PaddingPolicy,
  PreprocessClient,
  type PreprocessPageRequest,
  type PreprocessPageResponse,
} from '@kzr/api/kzr/v1/preprocess';
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import {
  benFilter,
  cropRaw,
  decodeImage,
  denoiseColoredSync,
  encodePng,
  paddedBox,
  PaddingPolicy as Padding,
  type RawImage,
} from '@kzr/imaging';
import { createLogger, FsStore, GrpcServer } from '@kzr/platform';

import { createPreprocessService, preprocessHandlers, type PreprocessLimits } from '@kzr/preprocess';

const silent = createLogger({ write: () => {} });

// A small seeded page: smooth gradient plus dark strokes (characters), 90 x 70.
function syntheticPage(): RawImage {
  const width = 90;
  const height = 70;
  const data = new Uint8Array(width * height * 3);
  let s = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const stroke = (x % 23 < 3 && y > 10 && y < 60) || (y % 19 < 2 && x > 20 && x < 70);
      const base = stroke ? 40 : 200 + ((x + y) % 30);
      const noise = ((s >>> 16) % 21) - 10;
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, base + noise - c * 8));
    }
  }
  return { width, height, channels: 3, data };
}

const limits: PreprocessLimits = {
  maxPagePixels: 90 * 70,
  maxBoxesPerRequest: 50,
  maxCropSize: 1024,
  maxCropPixelsPerRequest: 1_000_000,
  maxCropsPerMessage: 4,
  maxMessageBytes: 64 * 1024,
  threads: 1,
};

let server: GrpcServer;
let client: PreprocessClient;
let png: Buffer;
let storeDir: string;
let store: FsStore;
const page = syntheticPage();

before(async () => {
  png = await encodePng(page);
  storeDir = await mkdtemp(join(tmpdir(), 'kzr-preprocess-'));
  store = new FsStore({ root: storeDir });
  await store.put(datasetPageKey('d', 'p1', '.png'), png);
  server = await GrpcServer.start({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: limits.maxMessageBytes,
    services: [createPreprocessService(silent, { limits, store })],
    reflectionProtoFiles: [kzrProtoFiles.preprocess],
    protoIncludeDirs: [protoRoot],
    logger: silent,
  });
  client = new PreprocessClient(server.endpoint, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await server[Symbol.asyncDispose]();
  await store.close();
  await rm(storeDir, { recursive: true, force: true });
});

function preprocess(request: Partial<PreprocessPageRequest>): Promise<PreprocessPageResponse> {
  return new Promise((resolve, reject) =>
    client.preprocessPage({ image: undefined, skipBen: false, skipDenoise: false, ...request }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

function crop(request: Partial<CropCharactersRequest>): Promise<CropCharactersResponse[]> {
  return new Promise((resolve, reject) => {
    const out: CropCharactersResponse[] = [];
    const call = client.cropCharacters({
      image: undefined,
      boxes: [],
      padding: PaddingPolicy.PADDING_POLICY_UNSPECIFIED,
      size: 0,
      channels: 0,
      maxCropsPerMessage: 0,
      ...request,
    });
    call.on('data', (m: CropCharactersResponse) => out.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

const inline = (data: Uint8Array, mediaType: MediaType = MediaType.MEDIA_TYPE_UNSPECIFIED) => ({
  source: { $case: 'encoded' as const, value: { data, mediaType } },
});

async function statusOf(p: Promise<unknown>): Promise<grpc.ServiceError> {
  const err = await p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  return err as grpc.ServiceError;
}

describe('kzr.v1.Preprocess', () => {
  it('PreprocessPage returns the Ben + denoised page as an RGB PNG of the same size', async () => {
    const res = await preprocess({ image: inline(png, MediaType.MEDIA_TYPE_PNG) });
    assert.deepEqual([res.width, res.height], [page.width, page.height]);
    // PNG header: bit depth 8, colour type 2 (truecolour RGB)
    assert.deepEqual([res.png[24], res.png[25]], [8, 2]);
    const got = await decodeImage(res.png);
    const expected = denoiseColoredSync(await benFilter(page, 1));
    assert.deepEqual(got.data, expected.data);
    const benOnly = await decodeImage((await preprocess({ image: inline(png), skipDenoise: true })).png);
    assert.deepEqual(benOnly.data, (await benFilter(page, 1)).data);
    const none = await decodeImage((await preprocess({ image: inline(png), skipDenoise: true, skipBen: true })).png);
    assert.deepEqual(none.data, page.data);
  });

  it('CropCharacters streams padded crops in box order, at most N per message', async () => {
    const boxes = Array.from({ length: 10 }, (_, i) => ({ x: 5 + i * 7, y: 10, width: 6, height: 20 + i }));
    const messages = await crop({
      image: { source: { $case: 'storeKey', value: datasetPageKey('d', 'p1', '.png') } },
      boxes,
      padding: PaddingPolicy.PADDING_POLICY_INFER,
      maxCropsPerMessage: 3,
    });
    assert.deepEqual(
      messages.map((m) => m.crops.length),
      [3, 3, 3, 1],
    );
    const crops = messages.flatMap((m) => m.crops);
    assert.deepEqual(
      crops.map((c) => c.boxIndex),
      [...boxes.keys()],
    );
    // box 0: w 6, h 20 -> pad round(0.1 * 13) = 1
    const c0 = crops[0]!;
    assert.deepEqual(c0.paddedBox, { x: 4, y: 9, width: 8, height: 22 });
    assert.deepEqual(new Uint8Array(c0.pixels), cropRaw(page, { x: 4, y: 9, width: 8, height: 22 }).data);
    const resized = await crop({ image: inline(png), boxes: boxes.slice(0, 2), size: 16, channels: 1 });
    assert.deepEqual(
      resized[0]!.crops.map((c) => [c.width, c.height, c.channels, c.pixels.length]),
      [
        [16, 16, 1, 256],
        [16, 16, 1, 256],
      ],
    );
  });

  it('cuts the stream by bytes too, so no message exceeds the size limit', async () => {
    const small: PreprocessLimits = { ...limits, maxCropsPerMessage: 100, maxMessageBytes: 8 * 1024 };
    const handlers = preprocessHandlers(small);
    const boxes = Array.from({ length: 6 }, (_, i) => ({ x: i * 10, y: 0, width: 30, height: 30 })); // 2.7 KB each
    const ctx = { signal: new AbortController().signal } as Parameters<NonNullable<typeof handlers.cropCharacters>>[1];
    const sizes: number[] = [];
    for await (const m of handlers.cropCharacters!(
      { image: inline(png), boxes, padding: 0, size: 0, channels: 3, maxCropsPerMessage: 0 },
      ctx,
    )) {
      sizes.push(m.crops.reduce((n, c) => n + c.pixels.length, 0));
    }
    assert.ok(sizes.length > 1);
    assert.ok(
      sizes.every((n) => n < 8 * 1024),
      JSON.stringify(sizes),
    );
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      boxes
        .map((b) => paddedBox(b, Padding.Train, page.width, page.height))
        .reduce((n, b) => n + b.width * b.height * 3, 0),
    );
  });

  it('answers INVALID_ARGUMENT naming the problem', async () => {
    // Imaging's errors reach the client as they are: INVALID_ARGUMENT, the field first in the message.
    const corrupt = await statusOf(preprocess({ image: inline(png.subarray(0, 60)) }));
    assert.equal(corrupt.code, grpc.status.INVALID_ARGUMENT);
    assert.match(corrupt.details, /^image: corrupt png/);
    assert.deepEqual(corrupt.metadata.get('kzr-field'), ['image']);
    const gif = await statusOf(preprocess({ image: inline(Buffer.from('GIF89a-not-supported')) }));
    assert.equal(gif.code, grpc.status.INVALID_ARGUMENT);
    assert.match(gif.details, /unsupported image format/);
    const mismatch = await statusOf(preprocess({ image: inline(png, MediaType.MEDIA_TYPE_JPEG) }));
    assert.match(mismatch.details, /declared jpeg but the bytes are png/);
    const big = await encodePng({ width: 100, height: 100, channels: 3, data: new Uint8Array(30000) });
    assert.match((await statusOf(preprocess({ image: inline(big) }))).details, /exceeds the limit/);
    const outside = await statusOf(crop({ image: inline(png), boxes: [{ x: 80, y: 10, width: 20, height: 5 }] }));
    assert.equal(outside.code, grpc.status.INVALID_ARGUMENT);
    assert.match(outside.details, /^boxes\[0\]: box .* lies outside the 90x70 page/);
    assert.deepEqual(outside.metadata.get('kzr-field'), ['boxes[0]']);
    const empty = await statusOf(
      crop({
        image: inline(png),
        boxes: [
          { x: 1, y: 1, width: 5, height: 5 },
          { x: 10, y: 10, width: 0, height: 5 },
        ],
      }),
    );
    assert.match(empty.details, /boxes\[1\].*zero area/);
    const many = Array.from({ length: 51 }, () => ({ x: 1, y: 1, width: 2, height: 2 }));
    const tooMany = await statusOf(crop({ image: inline(png), boxes: many }));
    assert.equal(tooMany.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(tooMany.details, 'boxes: 51 boxes exceed KZR_PREPROCESS_MAX_BOXES = 50');
    const unknownType = await statusOf(preprocess({ image: inline(png, 99 as MediaType) }));
    assert.equal(unknownType.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(unknownType.details, 'image.encoded.media_type: unknown media type 99');
    const missing = await statusOf(crop({ image: { source: { $case: 'storeKey', value: 'nope.png' } }, boxes: [] }));
    assert.equal(missing.code, grpc.status.INVALID_ARGUMENT);
  });
});
