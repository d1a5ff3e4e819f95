/**
 * The gRPC methods of the preprocess and postprocess services under fuzz, on real servers in
 * this process: each case is a valid sample request with fields replaced by any JSON value
 * (through the generated codec, so it reaches the server as a well-formed message), or random
 * bytes sent as the request (so the server's own decoding is fuzzed too). Shared by
 * `test/grpc-fuzz.test.ts` (a few dozen cases per method) and `bench/fuzz/grpc.ts` (1,000).
 *
 * A case passes when the call succeeds or ends with a clear status (any but INTERNAL and
 * UNKNOWN, with details) within {@link callDeadlineMs}; health must answer between cases.
 */
import * as grpc from '@grpc/grpc-js';
import { CharacterResult, MediaType } from '@kzr/api/kzr/v1/common';
import {
  FilterPredictionsRequest,
  FinalizePageRequest,
  FitFilterRequest,
  MergeDetectionsRequest,
  type PagePredictions,
  PostprocessService,
  ScoreRequest,
} from '@kzr/api/kzr/v1/postprocess';
import {
  CropCharactersRequest,
  PaddingPolicy,
  PreprocessPageRequest,
  PreprocessService,
} from '@kzr/api/kzr/v1/preprocess';
import { encodePng } from '@kzr/imaging';
import { createLogger, GrpcServer } from '@kzr/platform';
import { createPostprocessService } from '@kzr/postprocess';
import { createPreprocessService } from '@kzr/preprocess';
import fc from 'fast-check';

import { jsonInputs } from './parser-fuzz.js';

/** A call slower than this counts as a hang. */
export const callDeadlineMs = 10_000;

/** What a method did with one request. */
export type CallOutcome = 'ok' | 'clear-error' | 'crash' | 'hang';

/** One method under fuzz. */
export interface FuzzedMethod {
  readonly name: string;
  readonly path: string;
  readonly responseStream: boolean;
  /** The request bytes of a case. */
  readonly requests: fc.Arbitrary<Buffer>;
}

interface Codec<T> {
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  encode(message: T): { finish(): Uint8Array };
}

function requestsOf<T>(codec: Codec<T>, sample: T): fc.Arbitrary<Buffer> {
  const json = codec.toJSON(sample);
  const mutated = jsonInputs(json).map((value) => {
    try {
      return Buffer.from(codec.encode(codec.fromJSON(value)).finish());
    } catch {
      // The generated codec itself refuses some values (a number as base64 bytes): send the sample.
      return Buffer.from(codec.encode(sample).finish());
    }
  });
  return fc.oneof(
    { weight: 4, arbitrary: mutated },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
  );
}

/** The two servers and the methods to fuzz; `close()` stops the servers. */
export interface GrpcFuzzTarget {
  readonly methods: readonly FuzzedMethod[];
  readonly endpoints: { readonly preprocess: string; readonly postprocess: string };
  call(method: FuzzedMethod, request: Buffer): Promise<{ outcome: CallOutcome; code?: number; details?: string }>;
  close(): Promise<void>;
}

/** Starts the servers (small limits, one thread) and builds the methods with their samples. */
export async function startGrpcFuzzTarget(): Promise<GrpcFuzzTarget> {
  const silent = createLogger({ write: () => {} });
  const png = await encodePng({ width: 16, height: 12, channels: 3, data: new Uint8Array(16 * 12 * 3).fill(180) });
  const maxMessageBytes = 4 * 1024 ** 2;
  const server = (services: Parameters<typeof GrpcServer.start>[0]['services']) =>
    GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes,
      services,
      reflectionProtoFiles: [],
      protoIncludeDirs: [],
      logger: silent,
    });
  const preprocess = await server([
    createPreprocessService(silent, {
      limits: {
        maxPagePixels: 1_000_000,
        maxBoxesPerRequest: 100,
        maxCropSize: 64,
        maxCropPixelsPerRequest: 1_000_000,
        maxCropsPerMessage: 16,
        maxMessageBytes,
        threads: 1,
      },
    }),
  ]);
  const postprocess = await server([createPostprocessService(silent)]);
  const image = { source: { $case: 'encoded' as const, value: { data: png, mediaType: MediaType.MEDIA_TYPE_PNG } } };
  const page: PagePredictions = {
    pageId: 'p1',
    pageWidth: 100,
    pageHeight: 80,
    detectionSet: 'det',
    characters: [
      CharacterResult.fromJSON({
        code: 'U+3042',
        probability: 0.9,
        detectorScore: 0.8,
        box: { x: 1, y: 2, width: 10, height: 12 },
      }),
    ],
  };
  const methods: FuzzedMethod[] = [
    {
      name: 'Preprocess.PreprocessPage',
      path: PreprocessService.preprocessPage.path,
      responseStream: false,
      requests: requestsOf(PreprocessPageRequest, { image, skipBen: false, skipDenoise: false }),
    },
    {
      name: 'Preprocess.CropCharacters',
      path: PreprocessService.cropCharacters.path,
      responseStream: true,
      requests: requestsOf(CropCharactersRequest, {
        image,
        boxes: [{ x: 1, y: 1, width: 5, height: 6 }],
        padding: PaddingPolicy.PADDING_POLICY_TRAIN,
        size: 8,
        channels: 1,
        maxCropsPerMessage: 0,
      }),
    },
    {
      name: 'Postprocess.MergeDetections',
      path: PostprocessService.mergeDetections.path,
      responseStream: false,
      requests: requestsOf(MergeDetectionsRequest, { sets: [page, page], iouThreshold: 0.5 }),
    },
    {
      name: 'Postprocess.FilterPredictions',
      path: PostprocessService.filterPredictions.path,
      responseStream: false,
      requests: requestsOf(FilterPredictionsRequest, { filterVersion: '', pages: [page], threshold: 0.5 }),
    },
    {
      name: 'Postprocess.FinalizePage',
      path: PostprocessService.finalizePage.path,
      responseStream: false,
      requests: requestsOf(FinalizePageRequest, {
        pageId: 'p1',
        pageWidth: 100,
        pageHeight: 80,
        sets: [page],
        filterVersion: '',
        threshold: 0,
        unfiltered: true,
        lowConfidenceThreshold: 0,
      }),
    },
    {
      name: 'Postprocess.Score',
      path: PostprocessService.score.path,
      responseStream: false,
      requests: requestsOf(ScoreRequest, {
        truthCsv: 'image_id,labels\np1,U+3042 1 2 10 12\n',
        submissionCsv: 'image_id,labels\np1,U+3042 6 8\n',
      }),
    },
    {
      name: 'Postprocess.FitFilter',
      path: PostprocessService.fitFilter.path,
      responseStream: true,
      requests: requestsOf(FitFilterRequest, {
        predictionsKey: 'runs/r/p.json',
        truthKey: 'datasets/d/labels.csv',
        folds: 2,
        trials: 0,
        seed: 1,
      }),
    },
  ];
  const endpointOf = (method: FuzzedMethod): string =>
    method.name.startsWith('Preprocess.') ? preprocess.endpoint : postprocess.endpoint;
  const clients = new Map<string, grpc.Client>();
  const clientFor = (endpoint: string): grpc.Client => {
    let client = clients.get(endpoint);
    if (client === undefined) {
      client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': maxMessageBytes,
      });
      clients.set(endpoint, client);
    }
    return client;
  };
  const identity = (b: Buffer): Buffer => b;
  const classify = (err: grpc.ServiceError | null): { outcome: CallOutcome; code?: number; details?: string } => {
    if (err === null) return { outcome: 'ok' };
    const { code, details } = err;
    if (code === grpc.status.DEADLINE_EXCEEDED) return { outcome: 'hang', code, details };
    const clear = code !== grpc.status.INTERNAL && code !== grpc.status.UNKNOWN && details !== '';
    return { outcome: clear ? 'clear-error' : 'crash', code, details };
  };
  return {
    methods,
    endpoints: { preprocess: preprocess.endpoint, postprocess: postprocess.endpoint },
    call: (method, request) =>
      new Promise((resolve) => {
        const client = clientFor(endpointOf(method));
        const options = { deadline: Date.now() + callDeadlineMs };
        if (method.responseStream) {
          const stream = client.makeServerStreamRequest(method.path, identity, identity, request, options);
          stream.on('data', () => {});
          stream.on('error', (err: grpc.ServiceError) => resolve(classify(err)));
          stream.on('end', () => resolve(classify(null)));
        } else {
          client.makeUnaryRequest(method.path, identity, identity, request, options, (err) => resolve(classify(err)));
        }
      }),
    close: async () => {
      for (const client of clients.values()) client.close();
      await preprocess[Symbol.asyncDispose]();
      await postprocess[Symbol.asyncDispose]();
    },
  };
}
