/**
 * Faults under load, the small version of bench/faults (issue 23): a whole deployment (nats-server,
 * the S3 server, the four services each its own process, the Kubernetes API stand-in running the
 * phase Jobs) trains a `smoke` run while RecognizePage traffic runs for 10 s, and nats-server is
 * SIGKILLed 3 s in and started again 2 s later. The run succeeds; no phase event is lost, no
 * effect is applied twice (one run, one version, each phase completed once), no manifest names a
 * missing or mismatched member, and no request fails (recognition does not use the Bus).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { Deployment } from './helpers/deployment.js';
import { ingestBooks, runWithFaults, smokeBooks } from './helpers/fault-run.js';

/** The smoke run takes 1-3 min through the cluster parts on two idle cores; a shared machine gets more. */
const timeout = 900_000;

describe('a nats-server kill during a smoke run under traffic', { timeout }, () => {
  it('loses no event, applies nothing twice, shows no partial object, fails no request', { timeout }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-faults-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { books, dataset } = await smokeBooks(dir);
    const deployment = await Deployment.start(join(dir, 'deployment'));
    t.after(() => deployment.stop());
    await ingestBooks(deployment, books, dataset);

    const r = await runWithFaults({
      deployment,
      books,
      dataset,
      run: 'faults-nats',
      seconds: 10,
      faults: [{ target: 'nats-server', atMs: 3000, downMs: 2000 }],
      promoteAtMs: 6000,
      concurrency: 4,
      runTimeoutMs: timeout - 180_000,
      log: (line) => t.diagnostic(line),
    });
    assert.equal(r.run.status, 'succeeded', `${r.run.failedPhase}`);
    assert.deepEqual(r.audit, { eventsLost: [], appliedTwice: [], partialObjects: [] });
    assert.ok(r.traffic.sent > 0);
    assert.deepEqual(r.traffic.failed, []);
    // The promote halfway was served.
    assert.ok((r.traffic.versions['v1'] ?? 0) > 0, JSON.stringify(r.traffic.versions));
    assert.equal(r.hashes?.length, 2);
    t.diagnostic(
      `${r.traffic.sent} requests, ${r.traffic.retried} calls retried, run ${r.seconds.toFixed(0)} s, the slowest request ${r.traffic.slowestMs} ms`,
    );
  });
});
