import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { initBackend } from '../src/backend/select-backend.js';
import { BackendUnavailableError, MlValidationError } from '../src/errors.js';

describe('initBackend', () => {
  it('rejects an unknown KZR_TF_BACKEND value naming the variable', async () => {
    await assert.rejects(initBackend({ env: { KZR_TF_BACKEND: 'tpu' } }), (err: unknown) => {
      assert.ok(err instanceof MlValidationError);
      assert.equal(err.field, 'KZR_TF_BACKEND');
      return true;
    });
  });

  it('fails clearly when a pinned backend cannot load', async () => {
    await assert.rejects(initBackend({ env: { KZR_TF_BACKEND: 'gpu' } }), (err: unknown) => {
      assert.ok(err instanceof BackendUnavailableError);
      assert.equal(err.backend, 'gpu');
      return true;
    });
  });

  it('falls back past the unavailable native backends to wasm and logs the choice', async () => {
    const lines: string[] = [];
    const choice = await initBackend({ env: {}, log: (message) => lines.push(message) });
    assert.equal(choice.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(
      choice.skipped.map((s) => s.split(':')[0]),
      ['gpu', 'node'],
    );
    assert.deepEqual(lines, ['tfjs backend: wasm']);
    // Later calls return the first choice.
    assert.equal(await initBackend({ backend: 'cpu' }), choice);
  });
});
