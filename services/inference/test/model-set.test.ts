import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import { exportClassifierToOnnx } from '@kzr/ml';
import { modelSetFileKey, modelSetManifestKey, publishModelSet } from '@kzr/artifacts';

import { classifyCrops } from '../src/ensemble/classify.js';
import { ModelRegistry } from '../src/models/registry.js';
import {
  seededModel,
  syntheticCrop,
  tempStore,
  testCodes,
  tinyEfficientNet,
  tinyInput,
  tinyResnet,
  tinySeResNeXt,
} from './helpers.js';

async function publishThreeMembers(store: Parameters<typeof publishModelSet>[0], version: string, seed: number) {
  const a = seededModel(tinyResnet, seed);
  const b = seededModel(tinyEfficientNet, seed + 1);
  const c = seededModel(tinySeResNeXt, seed + 2);
  try {
    return await publishModelSet(store, {
      modelSet: 'tiny',
      version,
      codes: testCodes,
      members: [
        { name: 'resnet', kind: 'kzr', model: a, input: tinyInput(1) },
        { name: 'effnet', kind: 'kzr', model: b, input: tinyInput(1) },
        // An ONNX member as if exported elsewhere: only the file, its class map and input spec.
        { name: 'imported', kind: 'onnx', onnx: await exportClassifierToOnnx(c), input: tinyInput(3) },
      ],
    });
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
}

const crops = [syntheticCrop(1), syntheticCrop(2, 24, 40), syntheticCrop(3, 40, 28, 1)];

describe('model sets', () => {
  it('loads a version with ONNX Runtime by default and tfjs on request, giving the same ensemble', async () => {
    await using store = await tempStore();
    const manifest = await publishThreeMembers(store, 'v1', 10);
    assert.equal(manifest.members.length, 3);
    await using onnx = new ModelRegistry({ store });
    await using tfjs = new ModelRegistry({ store, engine: 'tfjs' });
    const a = await onnx.activate('tiny', 'v1');
    const b = await tfjs.activate('tiny', 'v1');
    assert.deepEqual(
      a.members.map((m) => m.engine.kind),
      ['onnx', 'onnx', 'onnx'],
    );
    assert.deepEqual(
      b.members.map((m) => m.engine.kind),
      ['tfjs', 'tfjs', 'onnx'],
    );
    for (const voting of ['soft', 'hard'] as const) {
      const pa = await classifyCrops(a, crops, { voting, topK: 3 });
      const pb = await classifyCrops(b, crops, { voting, topK: 3 });
      pa.forEach((p, i) => {
        assert.equal(p.top.length, 3);
        assert.equal(p.label.code, pb[i]!.label.code);
        assert.ok(Math.abs(p.label.probability - pb[i]!.label.probability) < 1e-4);
        const sum = p.probabilities.reduce((x, y) => x + y, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
      });
    }
    // TTA matters: the centre view alone gives different probabilities.
    const [withTta] = await classifyCrops(a, crops.slice(0, 1), { voting: 'soft' });
    const [without] = await classifyCrops(a, crops.slice(0, 1), { voting: 'soft', tta: false });
    assert.notEqual(withTta!.probabilities[0], without!.probabilities[0]);
  });

  it('refuses a version whose file does not match its sha256 and keeps the current one serving', async () => {
    await using store = await tempStore();
    await publishThreeMembers(store, 'v1', 10);
    await publishThreeMembers(store, 'v2', 20);
    await store.put(modelSetFileKey('tiny', 'v2', 'effnet.safetensors'), Buffer.from('tampered'));
    await using registry = new ModelRegistry({ store });
    await registry.activate('tiny', 'v1');
    await assert.rejects(registry.activate('tiny', 'v2'), (err: Error) => {
      assert.equal(err.name, 'ModelLoadError');
      assert.match(err.message, /effnet/);
      assert.match(err.message, /sha256|integrity|checksum/i);
      return true;
    });
    const status = registry.status('tiny');
    assert.equal(status.state, 'ready');
    assert.equal(status.version, 'v1');
    assert.equal(status.lastError?.version, 'v2');
    using lease = registry.acquire('tiny');
    assert.equal(lease.set.version, 'v1');
  });

  it('reports an unknown set as not found and a set still loading as not ready', async () => {
    await using store = await tempStore();
    await publishThreeMembers(store, 'v1', 10);
    await using registry = new ModelRegistry({ store });
    assert.throws(() => registry.acquire('nope'), { name: 'NotFoundError' });
    const loading = registry.activate('tiny', 'v1');
    assert.throws(() => registry.acquire('tiny'), { name: 'NotReadyError' });
    assert.equal(registry.status('tiny').state, 'loading');
    await loading;
    assert.throws(() => registry.acquire('tiny', 'v9'), { name: 'NotFoundError' });
    assert.equal((await registry.servedVersion())?.version, 'v1');
  });

  it('rejects a manifest with a bad field, naming it', async () => {
    await using store = await tempStore();
    const manifest = await publishThreeMembers(store, 'v1', 10);
    const broken = {
      ...manifest,
      members: [{ ...manifest.members[0]!, input: { ...manifest.members[0]!.input, cropSize: 99 } }],
    };
    await store.put(modelSetManifestKey('tiny', 'v1'), Buffer.from(JSON.stringify(broken)));
    await using registry = new ModelRegistry({ store });
    await assert.rejects(registry.activate('tiny', 'v1'), /manifest\.members\[0\]\.input\.cropSize/);
    assert.equal(registry.status('tiny').state, 'failed');
  });

  it('swaps versions atomically: a request in flight keeps the old version until it releases it', async () => {
    await using store = await tempStore();
    await publishThreeMembers(store, 'v1', 10);
    await publishThreeMembers(store, 'v2', 20);
    await using registry = new ModelRegistry({ store, engine: 'tfjs' });
    const before = tf.memory().numTensors;
    const v1 = await registry.activate('tiny', 'v1');
    const held = registry.acquire('tiny');
    const p1 = await classifyCrops(held.set, crops, { voting: 'soft' });
    await registry.activate('tiny', 'v2');
    // New requests see v2; the held lease still runs on v1, which is not disposed yet.
    using fresh = registry.acquire('tiny');
    assert.equal(fresh.set.version, 'v2');
    assert.equal(v1.disposed, false);
    const again = await classifyCrops(held.set, crops, { voting: 'soft' });
    assert.deepEqual(
      again.map((p) => p.label.code),
      p1.map((p) => p.label.code),
    );
    const p2 = await classifyCrops(fresh.set, crops, { voting: 'soft' });
    assert.notDeepEqual(
      p2.map((p) => p.probabilities[0]),
      p1.map((p) => p.probabilities[0]),
    );
    held.release();
    await new Promise((r) => setImmediate(r));
    assert.equal(v1.disposed, true);
    fresh.release();
    await registry.close();
    // Both versions' tfjs variables are freed.
    assert.equal(tf.memory().numTensors, before);
  });
});
