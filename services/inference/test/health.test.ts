import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { protoRoot } from '@kzr/api/proto-root';
import { createLogger, GrpcServer, livenessHealthName } from '@kzr/platform';
import { checkHealth } from '@kzr/testkit';
import { publishModelSet } from '@kzr/artifacts';

import { createInferenceServing } from '../src/create.js';
import { modelSetHealthName, reportModelSetHealth } from '../src/health.js';
import { seededModel, tempStore, testCodes, tinyInput, tinyResnet } from './helpers.js';

const silent = createLogger({ write: () => {} });

describe('health per model set', () => {
  it('reports a set and the whole server NOT_SERVING until a version is loaded and warmed, then SERVING', async () => {
    await using store = await tempStore();
    const model = seededModel(tinyResnet, 1);
    await publishModelSet(store, {
      modelSet: 'tiny',
      version: 'v1',
      codes: testCodes,
      members: [{ name: 'a', kind: 'kzr', model, input: tinyInput(1) }],
    });
    model.dispose();
    await using runtime = createInferenceServing({ store, logger: silent });
    await using server = await GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 1024 * 1024,
      services: runtime.services,
      reflectionProtoFiles: [],
      protoIncludeDirs: [protoRoot],
      logger: silent,
    });
    reportModelSetHealth(runtime.registry, server);
    const name = modelSetHealthName('tiny');
    assert.equal(name, 'kzr.v1.Inference/tiny');
    await assert.rejects(checkHealth(server.endpoint, name), /NOT_FOUND/, 'an unknown set has no health yet');
    assert.equal(await checkHealth(server.endpoint), 'NOT_SERVING', 'no model set is loaded');
    assert.equal(await checkHealth(server.endpoint, livenessHealthName), 'SERVING');

    await assert.rejects(runtime.registry.activate('tiny', 'v9'));
    assert.equal(await checkHealth(server.endpoint, name), 'NOT_SERVING', 'no version could load');
    assert.equal(await checkHealth(server.endpoint), 'NOT_SERVING');

    await runtime.registry.activate('tiny', 'v1');
    assert.equal(await checkHealth(server.endpoint, name), 'SERVING');
    assert.equal(await checkHealth(server.endpoint, 'kzr.v1.Inference'), 'SERVING');
    assert.equal(await checkHealth(server.endpoint), 'SERVING', 'every known set serves');
    assert.equal(await checkHealth(server.endpoint, livenessHealthName), 'SERVING');
  });
});
