import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import { type ClassifyCropsResponse, InferenceClient, Voting } from '@kzr/api/kzr/v1/inference';
import { publishModelSet } from '@kzr/artifacts';
import { encodePng } from '@kzr/imaging';
import { createLogger, livenessHealthName, MemoryBus } from '@kzr/platform';
import { checkHealth, listServicesByReflection } from '@kzr/testkit';

import { compileInferenceConfig, localPagePath } from '../src/config.js';
import { createInference } from '../src/create.js';
import {
  counterSum,
  installMetricReader,
  seededModel,
  syntheticCrop,
  tempStore,
  testCodes,
  tinyInput,
  tinyResnet,
} from './helpers.js';

const silent = createLogger({ write: () => {} });
const collectMetrics = installMetricReader();

describe('the inference service runtime', () => {
  it('calls the page path on the local services by default, or where KZR_PREPROCESS_ENDPOINT / KZR_POSTPROCESS_ENDPOINT say', () => {
    assert.deepEqual(compileInferenceConfig({}).pagePath, localPagePath);
    assert.deepEqual(
      compileInferenceConfig({ KZR_PREPROCESS_ENDPOINT: 'pre:7001', KZR_POSTPROCESS_ENDPOINT: 'post.svc:7003' })
        .pagePath,
      { preprocess: 'pre:7001', postprocess: 'post.svc:7003' },
    );
    assert.throws(
      () => compileInferenceConfig({ KZR_POSTPROCESS_ENDPOINT: 'http://post/' }),
      (err: Error & { field?: string }) => err.field === 'KZR_POSTPROCESS_ENDPOINT' && /host:port/.test(err.message),
    );
  });

  it('lists only its own services by reflection, is live but not ready without a model set, and drains on dispose', async () => {
    await using store = await tempStore();
    await using bus = new MemoryBus({ source: 'test', logger: silent });
    const config = compileInferenceConfig({ KZR_GRPC_PORT: '0' });
    const runtime = await createInference({ config, bus, store, logger: silent });
    try {
      const { endpoint } = runtime.server;
      assert.deepEqual((await listServicesByReflection(endpoint)).sort(), [
        'grpc.health.v1.Health',
        'inference.GRPCInferenceService',
        'kzr.v1.Inference',
      ]);
      assert.equal(await checkHealth(endpoint), 'NOT_SERVING');
      assert.equal(await checkHealth(endpoint, livenessHealthName), 'SERVING');
      assert.equal(await checkHealth(endpoint, 'kzr.v1.Inference'), 'SERVING');
      assert.equal(runtime.state, 'running');
    } finally {
      await runtime[Symbol.asyncDispose]();
    }
    assert.equal(runtime.state, 'stopped');
    assert.equal(runtime.server.status, 'NOT_SERVING');
  });

  it('answers RESOURCE_EXHAUSTED naming the limit when a batch queue is full, and counts it', async () => {
    // Arrange: batches of one view and room for one waiting view, so one TTA request (7 views
    // per crop) fills the queue for the requests beside it.
    await using store = await tempStore();
    await using bus = new MemoryBus({ source: 'test', logger: silent });
    const model = seededModel(tinyResnet, 5);
    await publishModelSet(store, {
      modelSet: 'tiny',
      version: 'v1',
      codes: testCodes,
      members: [{ name: 'a', kind: 'kzr', model, input: tinyInput(1) }],
    });
    model.dispose();
    const config = compileInferenceConfig({
      KZR_GRPC_PORT: '0',
      KZR_INFERENCE_MAX_BATCH: '1',
      KZR_INFERENCE_MAX_DELAY_MS: '0',
      KZR_INFERENCE_MAX_QUEUE: '1',
      KZR_SHUTDOWN_GRACE_MS: '1000',
    });
    await using runtime = await createInference({ config, bus, store, logger: silent });
    await runtime.registry.activate('tiny', 'v1');
    const client = new InferenceClient(runtime.server.endpoint, grpc.credentials.createInsecure());
    const crops = await Promise.all(
      [1, 2, 3, 4].map(async (i) => ({
        data: await encodePng(syntheticCrop(i)),
        mediaType: MediaType.MEDIA_TYPE_PNG,
      })),
    );

    // Act: eight concurrent requests of 4 crops x 7 views.
    const outcomes = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<ClassifyCropsResponse | grpc.ServiceError>((resolve) =>
            client.classifyCrops(
              { model: { modelSet: 'tiny', version: '' }, crops, topK: 1, voting: Voting.VOTING_SOFT, tta: true },
              (err, res) => resolve(err ?? res),
            ),
          ),
      ),
    );
    client.close();

    // Assert: some were served, the others refused with the limit named, each refusal counted.
    const refused = outcomes.filter((o): o is grpc.ServiceError => o instanceof Error);
    const served = outcomes.filter((o) => !(o instanceof Error));
    assert.ok(served.length >= 1, 'the first request is served');
    assert.ok(refused.length >= 1, 'requests beside it are refused');
    for (const err of refused) {
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.message);
      assert.match(err.details, /batch queue is full \(KZR_INFERENCE_MAX_QUEUE = 1\)/);
    }
    const metrics = await collectMetrics();
    assert.equal(counterSum(metrics.get('kzr.inference.queue.rejected')), refused.length);
    assert.equal(
      counterSum(metrics.get('kzr.inference.requests'), { method: 'ClassifyCrops', status: 'resource-exhausted' }),
      refused.length,
    );
  });
});
