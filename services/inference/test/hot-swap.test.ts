import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import { type ClassifyCropsResponse, InferenceClient, Voting } from '@kzr/api/kzr/v1/inference';
import * as tf from '@tensorflow/tfjs';
import { encodePng } from '@kzr/imaging';
import { modelSetManifestKey, publishModelSet } from '@kzr/artifacts';
import { createLogger, EventSubject, livenessHealthName, NatsBus } from '@kzr/platform';
import { checkHealth, NatsServer } from '@kzr/testkit';

import { compileInferenceConfig } from '../src/config.js';
import { createInference, type InferenceRuntime } from '../src/create.js';
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

let nats: NatsServer;
let bus: NatsBus;
let store: Awaited<ReturnType<typeof tempStore>>;
let runtime: InferenceRuntime;

async function publishVersion(version: string, seed: number, modelSet = 'swap'): Promise<void> {
  const model = seededModel(tinyResnet, seed);
  try {
    await publishModelSet(store, {
      modelSet,
      version,
      codes: testCodes,
      members: [{ name: 'resnet', kind: 'kzr', model, input: tinyInput(1) }],
      // tfjs here, so the test can count the old version's tensors after the swap.
      engine: 'tfjs',
    });
  } finally {
    model.dispose();
  }
}

async function announce(version: string, modelSet = 'swap'): Promise<void> {
  await bus.publish(
    EventSubject.ModelsPublished,
    {
      meta: undefined,
      model: { modelSet, version },
      manifestKey: modelSetManifestKey(modelSet, version),
      runId: '',
    },
    { id: `${modelSet}-${version}` },
  );
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  nats = await NatsServer.start();
  bus = await NatsBus.connect({ servers: nats.url, name: 'inference-hot-swap', source: 'test', logger: silent });
  store = await tempStore();
  // The service runtime as the main starts it: it follows `kzr.models.published` on the Bus.
  const config = compileInferenceConfig({
    KZR_GRPC_PORT: '0',
    KZR_INFERENCE_MAX_BATCH: '32',
    KZR_INFERENCE_MAX_DELAY_MS: '2',
    KZR_SHUTDOWN_GRACE_MS: '1000',
  });
  runtime = await createInference({ config, bus, store, logger: silent, durable: 'inference-hot-swap' });
});

after(async () => {
  await runtime?.close();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
  await store?.[Symbol.asyncDispose]();
});

describe('hot swap over NATS JetStream', () => {
  it('is live but not ready while no model set is loaded, and ready once one is published on the Bus', async () => {
    const { endpoint } = runtime.server;
    assert.equal(await checkHealth(endpoint), 'NOT_SERVING');
    assert.equal(await checkHealth(endpoint, livenessHealthName), 'SERVING');
    // A set of its own, which keeps serving while `swap` is swapped below.
    await publishVersion('v1', 7, 'first');
    await announce('v1', 'first');
    await until(() => runtime.registry.ready(), 30_000, 'first@v1');
    assert.equal(await checkHealth(endpoint), 'SERVING');
    assert.equal(await checkHealth(endpoint, 'kzr.v1.Inference/first'), 'SERVING');
  });

  it('swaps to a newly published version while clients keep sending: no failure, each client switches once, the old version is freed', async () => {
    // Arrange: v1 serving, announced on the Bus like a training run would.
    const baseline = tf.memory().numTensors;
    await publishVersion('v1', 1);
    await publishVersion('v2', 2);
    await announce('v1');
    await until(
      () => runtime.registry.modelSets().includes('swap') && runtime.registry.status('swap').state === 'ready',
      30_000,
      'v1',
    );
    const perVersion = tf.memory().numTensors - baseline;
    assert.ok(perVersion > 0);
    const v1 = runtime.registry.acquire('swap');
    const v1Set = v1.set;
    v1.release();

    // Act: four clients loop over ClassifyCrops; v2 is announced after 50 v1 responses.
    const png = await encodePng(syntheticCrop(3));
    const counts: Record<string, number> = {};
    const sequences: string[][] = [];
    const failures: unknown[] = [];
    let stop = false;
    let announced = false;
    const clientLoop = async (i: number): Promise<void> => {
      const client = new InferenceClient(runtime.server.endpoint, grpc.credentials.createInsecure());
      const seen: string[] = [];
      sequences[i] = seen;
      try {
        while (!stop) {
          const res = await new Promise<ClassifyCropsResponse>((resolve, reject) =>
            client.classifyCrops(
              {
                model: { modelSet: 'swap', version: '' },
                crops: [{ data: png, mediaType: MediaType.MEDIA_TYPE_PNG }],
                topK: 1,
                voting: Voting.VOTING_SOFT,
                tta: false,
              },
              (err, r) => (err ? reject(err) : resolve(r)),
            ),
          ).catch((err: unknown) => {
            failures.push(err);
            return undefined;
          });
          if (!res) continue;
          const v = res.servedBy!.version;
          counts[v] = (counts[v] ?? 0) + 1;
          if (seen[seen.length - 1] !== v) seen.push(v);
          if (!announced && (counts.v1 ?? 0) >= 50) {
            announced = true;
            void announce('v2');
          }
          if ((counts.v2 ?? 0) >= 50) stop = true;
        }
      } finally {
        client.close();
      }
    };
    const clients = Array.from({ length: 4 }, (_, i) => clientLoop(i));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(clients),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stalled: ${JSON.stringify(counts)}`)), 45_000);
      }),
    ]).finally(() => {
      stop = true;
      clearTimeout(timer);
    });

    // Assert.
    assert.deepEqual(failures, []);
    assert.ok((counts.v1 ?? 0) >= 50 && (counts.v2 ?? 0) >= 50, JSON.stringify(counts));
    for (const seen of sequences) assert.deepEqual(seen, ['v1', 'v2'], 'every client sees the version change once');
    await until(() => v1Set.disposed, 5_000, 'v1 disposal');
    assert.equal(tf.memory().numTensors - baseline, perVersion, "only v2's tensors remain");
    const requests = (await collectMetrics()).get('kzr.inference.requests');
    assert.equal(counterSum(requests, { model_set: 'swap', version: 'v1' }), counts.v1);
  });

  it('keeps serving the current version when a published version fails to load, and says why', async () => {
    await store.put(modelSetManifestKey('swap', 'v3'), Buffer.from('{"format": "kzr.model-set"}'));
    await announce('v3');
    await until(() => runtime.registry.status('swap').lastError?.version === 'v3', 15_000, 'the v3 failure');
    const status = runtime.registry.status('swap');
    assert.equal(status.version, 'v2');
    assert.match(status.lastError!.message, /manifest/);
  });
});
