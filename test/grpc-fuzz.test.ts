// Fuzzing the gRPC methods (issue 22, item 5): requests of the preprocess and postprocess methods
// with fields replaced by any value, and random bytes, on real servers; every call succeeds or
// ends with a clear status (never INTERNAL or UNKNOWN) within its deadline, and health answers
// throughout. `bench/fuzz/grpc.ts` runs 1,000 cases per method.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { checkHealth } from '@kzr/testkit';
import fc from 'fast-check';

import { type GrpcFuzzTarget, startGrpcFuzzTarget } from './helpers/grpc-fuzz.js';

let target: GrpcFuzzTarget;

before(async () => {
  target = await startGrpcFuzzTarget();
});

after(() => target.close());

describe('gRPC methods under fuzz', () => {
  it('answer every request with success or a clear status, and stay healthy', async () => {
    for (const method of target.methods) {
      await fc.assert(
        fc.asyncProperty(method.requests, async (request) => {
          const { outcome, code, details } = await target.call(method, request);
          assert.ok(outcome === 'ok' || outcome === 'clear-error', `${method.name}: ${outcome} ${code}: ${details}`);
        }),
        { numRuns: 40 },
      );
      assert.equal(await checkHealth(target.endpoints.preprocess), 'SERVING');
      assert.equal(await checkHealth(target.endpoints.postprocess), 'SERVING');
    }
  });
});
