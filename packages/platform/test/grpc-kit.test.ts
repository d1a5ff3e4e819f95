import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { InferenceClient, InferenceService, type RecognizePageResponse } from '@kzr/api/kzr/v1/inference';
import { PostprocessClient, PostprocessService, type ScoreResponse } from '@kzr/api/kzr/v1/postprocess';
import { ErrorKind, KzrError, ParseError } from '@kzr/core';
import { checkHealth, listServicesByReflection } from '@kzr/testkit';

import {
  createLogger,
  fromServiceError,
  type Handlers,
  GrpcServer,
  implement,
  livenessHealthName,
  NotFoundError,
  NotReadyError,
  ValidationError,
} from '../src/index.js';

const silent = createLogger({ write: () => {} });
const okScore: ScoreResponse = { f1: 1, precision: 1, recall: 1, tp: 1, fp: 0, fn: 0 };

async function startWith(
  handlers: Handlers<typeof PostprocessService>,
  options: { healthPort?: number } = {},
): Promise<GrpcServer> {
  return GrpcServer.start({
    ...options,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 64 * 1024,
    services: [
      {
        name: 'kzr.v1.Postprocess',
        definition: PostprocessService,
        implementation: implement(PostprocessService, handlers, silent),
      },
    ],
    reflectionProtoFiles: [kzrProtoFiles.postprocess],
    protoIncludeDirs: [protoRoot],
    logger: silent,
  });
}

function score(
  client: PostprocessClient,
  truthCsv: string,
  options: Partial<grpc.CallOptions> = {},
): Promise<ScoreResponse> {
  return new Promise((resolve, reject) =>
    client.score({ truthCsv, submissionCsv: '' }, new grpc.Metadata(), options, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

describe('gRPC server kit', () => {
  it('answers a bad argument with INVALID_ARGUMENT naming the field', async () => {
    await using server = await startWith({
      score: async (request) => {
        if (request.truthCsv === '') throw new ValidationError('truth_csv', 'must not be empty');
        return okScore;
      },
    });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const err = (await score(client, '').catch((e: unknown) => e)) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /truth_csv/);
    assert.deepEqual(err.metadata.get('kzr-field'), ['truth_csv']);
    assert.deepEqual(await score(client, 'image_id,labels\n'), okScore);
    client.close();
  });

  it('maps missing to NOT_FOUND, not ready to UNAVAILABLE and hides internal failures', async () => {
    await using server = await startWith({
      score: async (request) => {
        if (request.truthCsv === 'missing') throw new NotFoundError('filter version "v9"');
        if (request.truthCsv === 'loading') throw new NotReadyError('model set "kz" is still loading');
        throw new TypeError('secret internals');
      },
    });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const codeOf = async (truth: string): Promise<[number, string]> => {
      const err = (await score(client, truth).catch((e: unknown) => e)) as grpc.ServiceError;
      return [err.code, err.details];
    };
    assert.deepEqual(await codeOf('missing'), [grpc.status.NOT_FOUND, 'filter version "v9" not found']);
    assert.deepEqual(await codeOf('loading'), [grpc.status.UNAVAILABLE, 'model set "kz" is still loading']);
    assert.deepEqual(await codeOf('boom'), [grpc.status.INTERNAL, 'internal error']);
    client.close();
  });

  it("maps any package's KzrError by its kind and field, and a lookalike error as internal", async () => {
    await using server = await startWith({
      score: async (request) => {
        if (request.truthCsv === 'parse') {
          throw new ParseError({ file: 'truth.csv', line: 2, field: 'labels[0].x' }, 'expected a number');
        }
        if (request.truthCsv === 'conflict') throw new KzrError(ErrorKind.Conflict, 'run "r1" already exists');
        // Shaped like an invalid-argument error, but not one: no kind is read off plain objects.
        throw Object.assign(new Error('x: looks invalid'), { kind: 'invalid', field: 'x' });
      },
    });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const statusOf = async (truth: string): Promise<grpc.ServiceError> =>
      (await score(client, truth).catch((e: unknown) => e)) as grpc.ServiceError;
    const parse = await statusOf('parse');
    assert.equal(parse.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(parse.details, 'truth.csv:2: labels[0].x: expected a number');
    assert.deepEqual(parse.metadata.get('kzr-field'), ['labels[0].x']);
    const conflict = await statusOf('conflict');
    assert.deepEqual([conflict.code, conflict.details], [grpc.status.ALREADY_EXISTS, 'run "r1" already exists']);
    assert.deepEqual(conflict.metadata.get('kzr-field'), []);
    const lookalike = await statusOf('lookalike');
    assert.deepEqual([lookalike.code, lookalike.details], [grpc.status.INTERNAL, 'internal error']);
    client.close();
  });

  it('reads a failed call back on the client as the KzrError the server threw, by status and field', async () => {
    await using server = await startWith({
      score: async (request) => {
        if (request.truthCsv === 'invalid') throw new ValidationError('truth_csv', 'must not be empty');
        if (request.truthCsv === 'missing') throw new NotFoundError('filter version "v9"');
        throw new TypeError('secret internals');
      },
    });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const readBack = async (truth: string): Promise<KzrError> =>
      fromServiceError((await score(client, truth).catch((e: unknown) => e)) as grpc.ServiceError, server.endpoint);
    const invalid = await readBack('invalid');
    assert.deepEqual(
      [invalid.kind, invalid.field, invalid.message],
      ['invalid', 'truth_csv', 'truth_csv: must not be empty'],
    );
    const missing = await readBack('missing');
    assert.deepEqual(
      [missing.kind, missing.field, missing.message],
      ['not-found', undefined, `${server.endpoint}: filter version "v9" not found`],
    );
    const internal = await readBack('boom');
    assert.deepEqual([internal.kind, internal.message], ['internal', `${server.endpoint}: internal error`]);
    client.close();
  });

  it('maps errors of a server stream to their status', async () => {
    await using server = await startWith({
      fitFilter: async function* () {
        yield { stage: 'cv', trial: 0, fold: 1, objective: 0.5, filterVersion: '' };
        throw new ValidationError('folds', 'must be at least 2');
      },
    });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const stream = client.fitFilter({ predictionsKey: 'p', truthKey: 't', folds: 1, trials: 0, seed: 0 });
    const stages: string[] = [];
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('data', (progress: { stage: string }) => stages.push(progress.stage));
      stream.on('error', resolve);
    });
    assert.deepEqual(stages, ['cv']);
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /folds/);
    client.close();
  });

  it('aborts the handler signal and answers DEADLINE_EXCEEDED when the deadline passes', async () => {
    let sawAbort = false;
    await using server = await startWith({
      score: async (_request, ctx) => {
        assert.ok(ctx.deadline, 'the client deadline reaches the handler');
        await new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
        );
        sawAbort = true;
        return okScore;
      },
    });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const err = (await score(client, 'x', { deadline: Date.now() + 200 }).catch(
      (e: unknown) => e,
    )) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await sleep(50);
    assert.equal(sawAbort, false, 'the handler rejected instead of returning');
    client.close();
  });

  it('lists through reflection only the services it serves, and reports health per service and liveness', async () => {
    // The inference proto is loaded too (as in the embedded mode), but this server does not serve it.
    await using server = await GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 64 * 1024,
      services: [
        {
          name: 'kzr.v1.Postprocess',
          definition: PostprocessService,
          implementation: implement(PostprocessService, {}, silent),
        },
      ],
      reflectionProtoFiles: [kzrProtoFiles.postprocess, kzrProtoFiles.inference],
      protoIncludeDirs: [protoRoot],
      logger: silent,
    });
    const services = await listServicesByReflection(server.endpoint);
    assert.deepEqual(services.sort(), ['grpc.health.v1.Health', 'kzr.v1.Postprocess']);
    assert.equal(await checkHealth(server.endpoint, 'kzr.v1.Postprocess'), 'SERVING');
    assert.equal(await checkHealth(server.endpoint), 'SERVING');
    assert.equal(await checkHealth(server.endpoint, livenessHealthName), 'SERVING');
  });

  it('reports the whole server NOT_SERVING while it is not ready, its services and liveness still SERVING', async () => {
    await using server = await startWith({});
    server.setReady(false);
    assert.equal(await checkHealth(server.endpoint), 'NOT_SERVING');
    assert.equal(await checkHealth(server.endpoint, 'kzr.v1.Postprocess'), 'SERVING');
    assert.equal(await checkHealth(server.endpoint, livenessHealthName), 'SERVING');
    server.setReady(true);
    assert.equal(await checkHealth(server.endpoint), 'SERVING');
    const drained = server.shutdown(1000);
    assert.equal(server.status, 'NOT_SERVING');
    await drained;
  });

  it('serves only health on the plaintext health port, with the same statuses, until the drain ends', async () => {
    let release: () => void = () => {};
    const server = await startWith(
      {
        score: async () => {
          await new Promise<void>((resolve) => (release = resolve));
          return okScore;
        },
      },
      { healthPort: 0 },
    );
    assert.ok(server.healthPort !== undefined && server.healthPort !== server.port);
    const healthEndpoint = `127.0.0.1:${server.healthPort}`;
    assert.equal(await checkHealth(healthEndpoint), 'SERVING');
    assert.equal(await checkHealth(healthEndpoint, livenessHealthName), 'SERVING');
    server.setReady(false);
    assert.equal(await checkHealth(healthEndpoint), 'NOT_SERVING', 'readiness follows the overall health');
    assert.equal(await checkHealth(healthEndpoint, livenessHealthName), 'SERVING');
    server.setReady(true);

    // Nothing but health on that port: kzr's services and reflection are not there.
    const onHealthPort = new PostprocessClient(healthEndpoint, grpc.credentials.createInsecure());
    const err = (await score(onHealthPort, 'x').catch((e: unknown) => e)) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    await assert.rejects(listServicesByReflection(healthEndpoint));
    onHealthPort.close();

    // Draining: not ready but alive while a call runs, then the health port closes too.
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const inFlight = score(client, 'x');
    await sleep(100);
    const drained = server.shutdown(5000);
    assert.equal(await checkHealth(healthEndpoint), 'NOT_SERVING');
    assert.equal(await checkHealth(healthEndpoint, livenessHealthName), 'SERVING');
    release();
    await inFlight;
    await drained;
    const closed = (await checkHealth(healthEndpoint, '', 1000).catch((e: unknown) => e)) as grpc.ServiceError;
    assert.equal(closed.code, grpc.status.UNAVAILABLE);
    client.close();
  });

  it('fails to start when the health port is taken', async () => {
    await using first = await startWith({}, { healthPort: 0 });
    await assert.rejects(startWith({}, { healthPort: first.healthPort }), /No address added|EADDRINUSE|bind/i);
  });

  it('answers a method without a handler UNIMPLEMENTED', async () => {
    await using server = await startWith({});
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const err = (await score(client, 'x').catch((e: unknown) => e)) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    client.close();
  });

  it('drains: reports NOT_SERVING, lets a running call finish inside the grace period', async () => {
    let release: () => void = () => {};
    const server = await startWith({
      score: async () => {
        await new Promise<void>((resolve) => (release = resolve));
        return okScore;
      },
    });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const inFlight = score(client, 'x');
    await sleep(100);
    const drained = server.shutdown(5000);
    assert.equal(server.status, 'NOT_SERVING');
    release();
    assert.deepEqual(await inFlight, okScore);
    await drained;
    assert.equal(server.shutdown(5000), drained, 'shutdown is idempotent');
    client.close();
  });

  it('cuts calls still running when the grace period ends', async () => {
    const server = await startWith({ score: () => new Promise<ScoreResponse>(() => {}) });
    const client = new PostprocessClient(server.endpoint, grpc.credentials.createInsecure());
    const inFlight = score(client, 'x').then(
      () => assert.fail('the call should have been cut'),
      (e: unknown) => e as grpc.ServiceError,
    );
    await sleep(100);
    const started = Date.now();
    await server.shutdown(300);
    assert.ok(Date.now() - started < 2000);
    assert.equal((await inFlight).code, grpc.status.CANCELLED);
    client.close();
  });

  it('answers every request of a bidirectional stream, also after the client ends its side', async () => {
    await using server = await GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 64 * 1024,
      services: [
        {
          name: 'kzr.v1.Inference',
          definition: InferenceService,
          implementation: implement(
            InferenceService,
            {
              recognizePages: async function* (requests) {
                for await (const request of requests) {
                  await sleep(20); // the client has ended its side before the later answers
                  yield {
                    servedBy: undefined,
                    pageId: request.pageId,
                    characters: [],
                    text: '',
                    kaggleLabels: '',
                    pageWidth: 0,
                    pageHeight: 0,
                    filterVersion: '',
                  };
                }
              },
            },
            silent,
          ),
        },
      ],
      reflectionProtoFiles: [kzrProtoFiles.inference],
      protoIncludeDirs: [protoRoot],
      logger: silent,
    });
    const client = new InferenceClient(server.endpoint, grpc.credentials.createInsecure());
    const stream = client.recognizePages();
    const answered: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: RecognizePageResponse) => answered.push(response.pageId));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    for (const pageId of ['p1', 'p2', 'p3']) {
      stream.write({
        model: undefined,
        pageId,
        image: undefined,
        preprocessed: false,
        detectionSets: [],
        voting: 0,
        lowConfidenceThreshold: 0,
        filterVersion: '',
        unfiltered: false,
      });
    }
    stream.end();
    await done;
    assert.deepEqual(answered, ['p1', 'p2', 'p3']);
    client.close();
  });
});
