/**
 * Faults under load (issue 23): a whole deployment (nats-server, the S3 server, the four
 * services, each its own process, and the Kubernetes API stand-in running the phase Jobs) trains
 * a `smoke` run while RecognizePage traffic runs (16 callers, UNAVAILABLE retried, a promote of
 * v1 halfway), and nats-server, the S3 server, the trainer, one phase Job's pod and the inference
 * process are each killed once at a seeded time and started again. First an undisturbed run (no
 * traffic, no kill) in its own deployment gives the members' sha256 every seeded run must publish.
 * Prints one table row per seed; see README.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { readModelSetManifest } from '@kzr/artifacts';
import { createRng } from '@kzr/core';

import { Deployment } from '../../test/helpers/deployment.js';
import {
  type Fault,
  type FaultTarget,
  ingestBooks,
  memberHashes,
  requestSmokeRun,
  runWithFaults,
  smokeBooks,
  waitForRun,
} from '../../test/helpers/fault-run.js';

const { values: flags } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    seconds: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
    'skip-undisturbed': { type: 'boolean', default: false },
  },
});
const seeds = flags.seeds.split(',').map(Number);
const seconds = Number(flags.seconds);
const concurrency = Number(flags.concurrency);
const runTimeoutMs = 40 * 60_000;
const targets: readonly FaultTarget[] = ['nats-server', 's3', 'trainer', 'phase job', 'inference'];

const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/**
 * The seed's kills: each target once, at a time in the traffic's first 90 % (none in its first
 * 10 %, so the run has begun), down 1-3 s.
 */
function schedule(seed: number): Fault[] {
  const rng = createRng(`faults-${seed}`);
  return targets.map((target) => ({
    target,
    atMs: Math.round(rng.uniform(0.1, 0.9) * seconds * 1000),
    downMs: Math.round(rng.uniform(1000, 3000)),
  }));
}

/** Runs `body` on a fresh deployment with the smoke dataset stored; stops it after. */
async function withDeployment<T>(root: string, name: string, body: (d: Deployment) => Promise<T>): Promise<T> {
  const deployment = await Deployment.start(join(root, name));
  try {
    await ingestBooks(deployment, books, dataset);
    return await body(deployment);
  } finally {
    await deployment.stop();
  }
}

const root = await mkdtemp(join(tmpdir(), 'kzr-bench-faults-'));
log(`working in ${root}`);
const { books, dataset } = await smokeBooks(root);

const undisturbed = flags['skip-undisturbed']
  ? { hashes: undefined, seconds: NaN }
  : await withDeployment(root, 'undisturbed', async (deployment) => {
      const started = performance.now();
      await requestSmokeRun(deployment, dataset, 'undisturbed');
      const store = await deployment.openStore();
      try {
        const state = await waitForRun(store, 'undisturbed', runTimeoutMs);
        if (state.status !== 'succeeded') throw new Error(`the undisturbed run ${state.status}`);
        const seconds = (performance.now() - started) / 1000;
        log(`undisturbed run succeeded in ${seconds.toFixed(0)} s`);
        return { hashes: memberHashes(await readModelSetManifest(store, 'smoke', 'undisturbed')), seconds };
      } finally {
        await store.close();
      }
    });

const rows: string[] = [];
for (const seed of seeds) {
  const faults = schedule(seed);
  log(`seed ${seed}: ${faults.map((f) => `${f.target} at ${(f.atMs / 1000).toFixed(1)} s`).join(', ')}`);
  const r = await withDeployment(root, `seed-${seed}`, (deployment) =>
    runWithFaults({
      deployment,
      books,
      dataset,
      run: `faults-${seed}`,
      seconds,
      faults,
      promoteAtMs: (seconds * 1000) / 2,
      concurrency,
      runTimeoutMs,
      log,
    }),
  );
  const equal = JSON.stringify(r.hashes) === JSON.stringify(undisturbed.hashes);
  const problems = [...r.audit.eventsLost, ...r.audit.appliedTwice, ...r.audit.partialObjects];
  for (const p of problems) log(`seed ${seed}: ${p}`);
  for (const f of r.traffic.failed)
    log(`seed ${seed}: failed ${(f.sentMs / 1000).toFixed(1)}-${(f.endedMs / 1000).toFixed(1)} s: ${f.error}`);
  rows.push(
    `| ${seed} | ${r.run.status} in ${r.seconds.toFixed(0)} s | ${r.traffic.sent} | ${r.traffic.retried} | ${r.traffic.failed.length} | ` +
      `${r.failedOutsideKills} | ${r.audit.eventsLost.length} | ${r.audit.appliedTwice.length} | ${r.audit.partialObjects.length} | ` +
      `${undisturbed.hashes === undefined ? 'not compared' : equal ? 'yes' : 'no'} | ${(r.traffic.slowestMs / 1000).toFixed(1)} s |`,
  );
}

console.log(
  `${seconds} s of RecognizePage traffic, concurrency ${concurrency}; undisturbed run ${undisturbed.seconds.toFixed(0)} s\n`,
);
console.log(
  '| seed | run | requests sent | calls retried (UNAVAILABLE) | requests failed | failed outside kills | events lost | effects applied twice | partial objects visible | artifacts = undisturbed | slowest request |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
if (!flags.keep) await rm(root, { recursive: true, force: true });
