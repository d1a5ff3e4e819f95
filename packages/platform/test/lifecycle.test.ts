import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';

import { kzrProtoFiles } from '@kzr/api/proto-root';
import { PostprocessService } from '@kzr/api/kzr/v1/postprocess';
import { checkHealth } from '@kzr/testkit';

import {
  compileServiceConfig,
  createLogger,
  DrainPhase,
  implement,
  Lifecycle,
  livenessHealthName,
  startService,
} from '../src/index.js';

const silent = createLogger({ write: () => {} });
const postprocess = {
  name: 'kzr.v1.Postprocess',
  definition: PostprocessService,
  implementation: implement(PostprocessService, {}, silent),
};

describe('Lifecycle', () => {
  it('drains phase by phase whatever the registration order, once, and fails when a step throws', async () => {
    const lifecycle = new Lifecycle({ graceMs: 100, logger: silent });
    const ran: string[] = [];
    lifecycle.onDrain(DrainPhase.Resources, 'models', () => void ran.push('models'));
    lifecycle.onDrain(DrainPhase.Calls, 'server', () => void ran.push('server'));
    lifecycle.onDrain(DrainPhase.Intake, 'worker', () => void ran.push('worker'));
    lifecycle.onDrain(DrainPhase.Intake, 'swaps', () => {
      ran.push('swaps');
      throw new Error('already closed');
    });
    lifecycle.onDrain(DrainPhase.Health, 'health', () => void ran.push('health'));
    lifecycle.running();
    const drained = lifecycle.drain('test');
    assert.equal(lifecycle.state, 'draining');
    assert.equal(lifecycle.drain('again'), drained, 'drain is idempotent');
    await drained;
    assert.deepEqual(ran, ['health', 'worker', 'swaps', 'server', 'models']);
    assert.equal(lifecycle.state, 'failed');
  });
});

describe('startService', () => {
  it('serves what the service set up and drains its steps in order on close', async () => {
    const ran: string[] = [];
    const config = compileServiceConfig({ KZR_GRPC_PORT: '0' }, 50059);
    const runtime = await startService({
      name: 'test',
      config,
      logger: silent,
      protoFiles: [kzrProtoFiles.postprocess],
      setUp: async (lifecycle) => {
        lifecycle.onDrain(DrainPhase.Intake, 'worker', () => void ran.push(`worker ${runtime.server.status}`));
        lifecycle.onDrain(DrainPhase.Resources, 'pool', () => void ran.push('pool'));
        return { services: [postprocess], expose: { answer: 42 } };
      },
    });
    assert.equal(runtime.answer, 42);
    assert.equal(runtime.state, 'running');
    assert.equal(await checkHealth(runtime.server.endpoint, livenessHealthName), 'SERVING');
    await runtime.close('test');
    assert.deepEqual(ran, ['worker NOT_SERVING', 'pool'], 'health flips before the intake stops');
    assert.equal(runtime.state, 'stopped');
  });

  it('stops what was set up when the server cannot start', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    let stopped = false;
    try {
      const config = compileServiceConfig({ KZR_GRPC_PORT: String(port) }, 50059);
      await assert.rejects(
        startService({
          name: 'test',
          config,
          logger: silent,
          protoFiles: [],
          setUp: async (lifecycle) => {
            lifecycle.onDrain(DrainPhase.Intake, 'worker', () => void (stopped = true));
            return { services: [postprocess], expose: {} };
          },
        }),
      );
      assert.ok(stopped, 'the worker was stopped');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
