/**
 * Store keys are never URL-decoded, and no name a caller gives can leave its place in the Store:
 * `../`, absolute and `%2e%2e` names in every gRPC field that names a model set, version,
 * filter version, page or Store key, and in the CLI's arguments that name a dataset, model set,
 * version or run, are refused with INVALID_ARGUMENT (exit 2), and nothing is written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import { ClassifyCropsRequest, InferenceService, RecognizePageRequest } from '@kzr/api/kzr/v1/inference';
import {
  GRPCInferenceServiceService,
  ModelInferRequest,
  ModelMetadataRequest,
  ModelReadyRequest,
} from '@kzr/api/inference/v2/grpc_predict_v2';
import {
  FilterPredictionsRequest,
  FinalizePageRequest,
  FitFilterRequest,
  PostprocessService,
} from '@kzr/api/kzr/v1/postprocess';
import { CropCharactersRequest, PreprocessPageRequest, PreprocessService } from '@kzr/api/kzr/v1/preprocess';
import { createInferenceServing, type InferenceServing } from '@kzr/inference';
import { createLogger, FsStore, GrpcServer, MemoryBus } from '@kzr/platform';
import { createPostprocessService } from '@kzr/postprocess';
import { createPreprocessService } from '@kzr/preprocess';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const silent = createLogger({ write: () => {} });

/** Names that would leave their place if a layer joined or URL-decoded them. */
const hostileNames = ['../x', '..', '/etc/passwd', '%2e%2e', '%2e%2e/%2e%2e/x', 'a/../../b', '..%2fx'];

/** One gRPC field that names something in the Store, and a request with `name` in it. */
interface Case {
  readonly field: string;
  readonly method: grpc.MethodDefinition<unknown, unknown>;
  readonly server: 'preprocess' | 'postprocess' | 'inference';
  readonly request: (name: string) => unknown;
}

const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAWzj4yQAAAABJRU5ErkJggg==',
  'base64',
);
const encoded = { source: { $case: 'encoded' as const, value: { data: png, mediaType: MediaType.MEDIA_TYPE_PNG } } };
const page = { pageId: 'p1', pageWidth: 10, pageHeight: 10, detectionSet: 'd', characters: [] };

const cases: Case[] = [
  ...['modelSet', 'version'].flatMap((part): Case[] => [
    {
      field: `RecognizePage model.${part}`,
      method: InferenceService.recognizePage as never,
      server: 'inference',
      request: (name) =>
        RecognizePageRequest.fromPartial({
          model: { modelSet: part === 'modelSet' ? name : 'set', version: part === 'version' ? name : 'v1' },
          pageId: 'p1',
          image: encoded,
        }),
    },
    {
      field: `ClassifyCrops model.${part}`,
      method: InferenceService.classifyCrops as never,
      server: 'inference',
      request: (name) =>
        ClassifyCropsRequest.fromPartial({
          model: { modelSet: part === 'modelSet' ? name : 'set', version: part === 'version' ? name : 'v1' },
          crops: [{ data: png, mediaType: MediaType.MEDIA_TYPE_PNG }],
        }),
    },
  ]),
  {
    field: 'RecognizePage page_id',
    method: InferenceService.recognizePage as never,
    server: 'inference',
    request: (name) => RecognizePageRequest.fromPartial({ pageId: name, image: encoded }),
  },
  {
    field: 'RecognizePage filter_version',
    method: InferenceService.recognizePage as never,
    server: 'inference',
    request: (name) => RecognizePageRequest.fromPartial({ pageId: 'p1', image: encoded, filterVersion: name }),
  },
  {
    field: 'OIP ModelReady name',
    method: GRPCInferenceServiceService.modelReady as never,
    server: 'inference',
    request: (name) => ModelReadyRequest.fromPartial({ name }),
  },
  {
    field: 'OIP ModelReady version',
    method: GRPCInferenceServiceService.modelReady as never,
    server: 'inference',
    request: (version) => ModelReadyRequest.fromPartial({ name: 'set', version }),
  },
  {
    field: 'OIP ModelMetadata name',
    method: GRPCInferenceServiceService.modelMetadata as never,
    server: 'inference',
    request: (name) => ModelMetadataRequest.fromPartial({ name }),
  },
  {
    field: 'OIP ModelInfer model_name',
    method: GRPCInferenceServiceService.modelInfer as never,
    server: 'inference',
    request: (modelName) => ModelInferRequest.fromPartial({ modelName }),
  },
  {
    field: 'OIP ModelInfer model_version',
    method: GRPCInferenceServiceService.modelInfer as never,
    server: 'inference',
    request: (modelVersion) => ModelInferRequest.fromPartial({ modelName: 'set', modelVersion }),
  },
  {
    field: 'PreprocessPage image.store_key',
    method: PreprocessService.preprocessPage as never,
    server: 'preprocess',
    request: (key) => PreprocessPageRequest.fromPartial({ image: { source: { $case: 'storeKey', value: key } } }),
  },
  {
    field: 'CropCharacters image.store_key',
    method: PreprocessService.cropCharacters as never,
    server: 'preprocess',
    request: (key) =>
      CropCharactersRequest.fromPartial({
        image: { source: { $case: 'storeKey', value: key } },
        boxes: [{ x: 0, y: 0, width: 1, height: 1 }],
        size: 8,
        channels: 1,
      }),
  },
  {
    field: 'FilterPredictions filter_version',
    method: PostprocessService.filterPredictions as never,
    server: 'postprocess',
    request: (filterVersion) => FilterPredictionsRequest.fromPartial({ filterVersion, pages: [page] }),
  },
  {
    field: 'FinalizePage filter_version',
    method: PostprocessService.finalizePage as never,
    server: 'postprocess',
    request: (filterVersion) => FinalizePageRequest.fromPartial({ pageId: 'p1', filterVersion }),
  },
  {
    field: 'FinalizePage page_id',
    method: PostprocessService.finalizePage as never,
    server: 'postprocess',
    request: (pageId) => FinalizePageRequest.fromPartial({ pageId, unfiltered: true }),
  },
  {
    field: 'FitFilter predictions_key',
    method: PostprocessService.fitFilter as never,
    server: 'postprocess',
    request: (predictionsKey) =>
      FitFilterRequest.fromPartial({ predictionsKey, truthKey: 'datasets/d/labels.csv', folds: 2 }),
  },
  {
    field: 'FitFilter truth_key',
    method: PostprocessService.fitFilter as never,
    server: 'postprocess',
    request: (truthKey) => FitFilterRequest.fromPartial({ predictionsKey: 'runs/r/p.json', truthKey, folds: 2 }),
  },
];

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Calls `method` with `request`; resolves with the status code and details. */
function callOnce(
  client: grpc.Client,
  method: grpc.MethodDefinition<unknown, unknown>,
  request: unknown,
): Promise<{ code: grpc.status; details: string }> {
  const options = { deadline: Date.now() + 10_000 };
  return new Promise((resolve) => {
    const done = (err: grpc.ServiceError | null): void =>
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
    if (!method.responseStream) {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new grpc.Metadata(),
        options,
        done,
      );
      return;
    }
    const stream = client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      options,
    );
    stream.on('data', () => {});
    stream.once('error', done);
    stream.once('end', () => done(null));
  });
}

describe('Store keys from callers', () => {
  let root: string;
  let store: FsStore;
  let bus: MemoryBus;
  let inference: InferenceServing;
  const servers: Record<string, GrpcServer> = {};
  const clients: Record<string, grpc.Client> = {};

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kzr-keys-'));
    store = await FsStore.open({ root: join(root, 'store') });
    bus = new MemoryBus({ logger: silent });
    inference = createInferenceServing({ store, logger: silent });
    const start = (services: Parameters<typeof GrpcServer.start>[0]['services']): Promise<GrpcServer> =>
      GrpcServer.start({
        host: '127.0.0.1',
        port: 0,
        maxMessageBytes: 4 * 1024 ** 2,
        services,
        reflectionProtoFiles: [],
        protoIncludeDirs: [],
        logger: silent,
      });
    servers['preprocess'] = await start([createPreprocessService(silent, { store })]);
    servers['postprocess'] = await start([createPostprocessService(silent, { store, bus })]);
    servers['inference'] = await start(inference.services);
    for (const [name, server] of Object.entries(servers)) {
      clients[name] = new grpc.Client(server.endpoint, grpc.credentials.createInsecure());
    }
  });
  after(async () => {
    for (const client of Object.values(clients)) client.close();
    for (const server of Object.values(servers)) await server.shutdown(0);
    await inference?.close();
    await bus?.close();
    await store?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('refuses every hostile name in every gRPC field that names a key, with INVALID_ARGUMENT, and writes nothing', async () => {
    const before = await filesUnder(root);
    const wrong: string[] = [];
    for (const c of cases) {
      for (const name of hostileNames) {
        const { code, details } = await callOnce(clients[c.server]!, c.method, c.request(name));
        if (code !== grpc.status.INVALID_ARGUMENT) wrong.push(`${c.field} = ${name}: ${grpc.status[code]} ${details}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.deepEqual(await filesUnder(root), before, 'nothing written');
  });

  it('refuses them in the CLI arguments that name a dataset, model set, version or run, with exit 2', async () => {
    const dataDir = join(root, 'cli');
    // A process per case (the CLI starts in a few seconds): each way out is tried at least once.
    const argv: string[][] = [
      ['model', 'promote', '--model-set', '../x', '--version', 'v1'],
      ['model', 'promote', '--model-set', 'set', '--version', '%2e%2e'],
      ['model', 'rollback', '--model-set', '/etc/passwd'],
      ['run', 'watch', '%2e%2e'],
      ['data', 'ingest', root, '--dataset', '../x'],
    ];
    const wrong: string[] = [];
    for (const args of argv) {
      const result = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'packages/cli/src/main.ts'), ...args],
        {
          env: { ...process.env, KZR_DATA_DIR: dataDir },
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      const firstLine = result.stderr.split('\n')[0] ?? '';
      if (result.status !== 2 || !firstLine.startsWith('kzr: ')) {
        wrong.push(`kzr ${args.join(' ')}: exit ${result.status}, ${firstLine}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.deepEqual(await filesUnder(join(dataDir, 'store')), [], 'nothing written');
  });
});
