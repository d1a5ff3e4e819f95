/**
 * The page path in this process (DESIGN.md "The page path"): preprocess, postprocess and the
 * inference services started on free loopback ports over a Store, as `kzr start` starts them,
 * and RecognizePage called on them. `kzr recognize` and a run's inference phases both recognise
 * pages this way, so a run scores its models exactly as they are served.
 */
import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import { protoRoot } from '@kzr/api/proto-root';
import { InferenceClient, type RecognizePageRequest, type RecognizePageResponse } from '@kzr/api/kzr/v1/inference';
import type { DetectionSet } from '@kzr/core';
import { decodeImage } from '@kzr/imaging';
import { createInferenceServing } from '@kzr/inference';
import {
  clientCredentials,
  fromServiceError,
  type GrpcClientConfig,
  GrpcServer,
  type Logger,
  MemoryBus,
  plaintextClient,
  type Store,
} from '@kzr/platform';
import { createPostprocess } from '@kzr/postprocess';
import { createPreprocess } from '@kzr/preprocess';

import { UsageError } from './args.js';
import { compileEmbeddedServicesConfig } from './services-config.js';

/** How long one page may take, end to end. */
const pageDeadlineMs = 600_000;

/**
 * Starts preprocess and postprocess in this process on free loopback ports, as `kzr start` does,
 * and the inference services (`createInferenceServing`, the same services the inference runtime
 * serves) on a third port with `modelSet@version` (the newest published one by default) loaded
 * before the first request and RecognizePage pointed at the two others. Resolves with the
 * inference endpoint and a function that stops all three.
 */
export async function startPagePath(
  store: Store,
  logger: Logger,
  modelSet: string | undefined,
  version: string,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const services = compileEmbeddedServicesConfig(process.env);
  // Servers of this command alone, on loopback: plaintext and open whatever the machine's
  // services require (KZR_GRPC_TLS_*, KZR_AUTH_TOKENS_FILE), and called as such.
  const local = {
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    grpcTls: undefined,
    authTokensFile: undefined,
    grpcClient: plaintextClient,
  };
  // A Bus of this command alone: the services' consumers (the preprocess worker, the filter hot
  // swap) must not take events meant for the machine's long-running services.
  const bus = new MemoryBus({ logger });
  const shared = { store, bus, logger };
  const started: Array<{ close(): Promise<unknown> }> = [];
  const close = async (): Promise<void> => {
    for (const r of started.reverse()) await r.close();
    await bus.close();
  };
  try {
    const preprocess = await createPreprocess({ ...shared, config: { ...services.preprocess, ...local } });
    started.push(preprocess);
    const postprocess = await createPostprocess({ ...shared, config: { ...services.postprocess, ...local } });
    started.push(postprocess);
    const inference = createInferenceServing({
      store,
      logger,
      limits: services.inference,
      pagePath: { preprocess: preprocess.server.endpoint, postprocess: postprocess.server.endpoint },
      maxMessageBytes: services.inference.maxMessageBytes,
    });
    started.push(inference);
    const target = version
      ? modelSet
        ? { modelSet, version }
        : undefined
      : await inference.registry.servedVersion(modelSet);
    if (!target) {
      throw new UsageError(
        '--model-set',
        modelSet
          ? `no published version of ${modelSet}`
          : 'no model set is published (and --version needs --model-set)',
      );
    }
    await inference.registry.activate(target.modelSet, target.version);
    const server = await GrpcServer.start({
      host: local.grpcHost,
      port: 0,
      maxMessageBytes: services.inference.maxMessageBytes,
      services: inference.services,
      reflectionProtoFiles: [],
      protoIncludeDirs: [protoRoot],
      logger,
    });
    started.push({ close: () => server.shutdown(services.inference.shutdownGraceMs) });
    return { endpoint: server.endpoint, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function recognize(
  client: InferenceClient,
  peer: string,
  request: RecognizePageRequest,
): Promise<RecognizePageResponse> {
  return new Promise<RecognizePageResponse>((resolve, reject) => {
    client.recognizePage(request, new grpc.Metadata(), { deadline: Date.now() + pageDeadlineMs }, (err, res) => {
      if (err) reject(fromServiceError(err, peer));
      else resolve(res);
    });
  });
}

/**
 * Recognises `requests` one after the other at the inference service `endpoint`, with the TLS
 * and token of `security` (for `--server`: `compileGrpcClientConfig(process.env)`).
 */
export async function recognizeAll(
  endpoint: string,
  requests: readonly RecognizePageRequest[],
  security: GrpcClientConfig = plaintextClient,
): Promise<RecognizePageResponse[]> {
  const { credentials, options } = clientCredentials(security);
  const client = new InferenceClient(endpoint, credentials, {
    ...options,
    'grpc.max_send_message_length': 256 * 1024 ** 2,
    'grpc.max_receive_message_length': 256 * 1024 ** 2,
  });
  try {
    const out: RecognizePageResponse[] = [];
    for (const request of requests) out.push(await recognize(client, endpoint, request));
    return out;
  } finally {
    client.close();
  }
}

/** The page's detection sets in wire form, each box scaled from the set's page size to the image's (spec §5.2). */
function pageDetections(
  sets: readonly DetectionSet[],
  pageId: string,
  width: number,
  height: number,
): RecognizePageRequest['detectionSets'] {
  return sets.map((set) => {
    const page = set.pages.length === 1 ? set.pages[0]! : set.pages.find((p) => p.pageId === pageId);
    if (!page) throw new UsageError('--detections', `set ${set.name} has no page ${pageId}`);
    const rx = width / page.width;
    const ry = height / page.height;
    return {
      name: set.name,
      pageId,
      detections: page.detections.map((d) => ({
        box: { x: d.x * rx, y: d.y * ry, width: d.width * rx, height: d.height * ry },
        score: d.score,
      })),
    };
  });
}

/** How a page is recognised: everything of the request but the page and its detections. */
export type PageRequestOptions = Pick<
  RecognizePageRequest,
  'model' | 'voting' | 'lowConfidenceThreshold' | 'filterVersion' | 'unfiltered'
>;

/**
 * The RecognizePage request of one page image (`bytes`, as stored or uploaded) and the detection
 * sets that cover it (`kzr recognize`, the live page); the image is decoded once for its size,
 * an undecodable one named by `field` (the file, the upload).
 */
export async function pageRequest(
  bytes: Buffer,
  sets: readonly DetectionSet[],
  pageId: string,
  options: PageRequestOptions,
  field: string,
): Promise<RecognizePageRequest> {
  const page = await decodeImage(bytes, { field });
  return {
    ...options,
    pageId,
    image: { source: { $case: 'encoded', value: { data: bytes, mediaType: MediaType.MEDIA_TYPE_UNSPECIFIED } } },
    preprocessed: false,
    detectionSets: pageDetections(sets, pageId, page.width, page.height),
  };
}
