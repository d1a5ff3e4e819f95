// Test helper: a `smoke` run through a whole Deployment while RecognizePage traffic runs and parts
// are killed and started again at given times, and the audit of what it left: events lost, effects
// applied twice, partial objects visible, the published members' sha256. Shared by
// test/faults.slow.test.ts and bench/faults.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import * as grpc from '@grpc/grpc-js';
import { TrainerClient } from '@kzr/api/kzr/v1/trainer';
import {
  announceServedVersion,
  listRuns,
  modelSetFileKey,
  modelSetsPrefix,
  parseModelSetManifestKey,
  publishModelSet,
  readModelSetManifest,
  readRunRecord,
  type ModelSetManifest,
} from '@kzr/artifacts';
import { generateSyntheticDataset } from '@kzr/data';
import { createClassifier } from '@kzr/ml';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState, type RunState } from '@kzr/pipeline';
import { EventSubject, NatsBus, type Store, type Subscription } from '@kzr/platform';
import { checkHealth } from '@kzr/testkit';
import { loadRunSpec, syntheticDatasetName } from '@kzr/trainer';

import type { Deployment, Part } from './deployment.js';
import { recognizeRequest } from './recognize-calls.js';
import { startRecognizeTraffic, type TrafficReport } from './recognize-traffic.js';
import { kzr } from './tiny-model.js';

/** The model set the traffic asks for (the smoke preset's). */
const modelSet = 'smoke';

/** What a fault kills: a part of the deployment, or the pod of one running phase Job. */
export type FaultTarget = Part | 'phase job';

/** One kill: `target` SIGKILLed `atMs` after the run was asked for (and the traffic began), started again `downMs` later. */
export interface Fault {
  readonly target: FaultTarget;
  readonly atMs: number;
  readonly downMs: number;
}

/** The smoke preset's synthetic books generated under `dir`, and the dataset name its runs read. */
export async function smokeBooks(dir: string): Promise<{ books: string; dataset: string }> {
  const { synthetic } = (await loadRunSpec({ preset: 'smoke' })).dataset;
  const books = join(dir, 'books');
  await generateSyntheticDataset({ ...synthetic!, outDir: books });
  return { books, dataset: syntheticDatasetName(synthetic!) };
}

/** Stores `books` as `dataset` in the deployment's Store (`kzr data ingest`, no Bus event). */
export async function ingestBooks(deployment: Deployment, books: string, dataset: string): Promise<void> {
  const ingested = await kzr(
    {
      PATH: process.env['PATH'] ?? '',
      ...deployment.clusterEnv,
      KZR_BUS: 'memory',
      KZR_DATA_DIR: join(deployment.dir, 'ingest'),
    },
    ...['data', 'ingest', books, '--dataset', dataset],
  );
  assert.equal(ingested.code, 0, ingested.stderr);
}

/** Asks the trainer for a `smoke` run named `run` on `dataset` (`kzr retrain`, `kzr.training.requested`). */
export async function requestSmokeRun(deployment: Deployment, dataset: string, run: string): Promise<void> {
  const requested = await kzr(
    {
      PATH: process.env['PATH'] ?? '',
      KZR_DATA_DIR: join(deployment.dir, 'retrain'),
      KZR_NATS_URL: deployment.nats.url,
    },
    ...['retrain', '--dataset', dataset, '--preset', 'smoke', '--request-id', run],
  );
  assert.equal(requested.code, 0, requested.stderr);
}

/** Waits until `run` is final (its record read every second, a Store outage waited out); returns its state. */
export async function waitForRun(store: Store, run: string, timeoutMs: number): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await readRunRecord(store, run).catch(() => undefined);
    const state = record && reduceRunState(buildPhaseGraph(record.spec), record.events);
    if (state !== undefined && isFinalRunStatus(state.status)) return state;
    if (Date.now() > deadline)
      assert.fail(`run ${run} not final within ${timeoutMs} ms (${state?.status ?? 'no record'})`);
    await sleep(1000);
  }
}

/**
 * Publishes two versions of `smoke` for the traffic before the run: v1 (older) and v0 (newest,
 * so served, and announced on the Bus as `kzr model import-onnx` does), each a tiny classifier
 * with seeded weights and no page preprocessing.
 */
export async function publishServedVersions(store: Store, natsUrl: string): Promise<void> {
  const codes = Array.from({ length: 10 }, (_, i) => `U+${(0x3042 + 2 * i).toString(16).toUpperCase()}`);
  for (const [version, seed, createdAt] of [
    ['v1', 1, new Date(Date.now() - 60_000)],
    ['v0', 2, new Date()],
  ] as const) {
    const model = createClassifier({
      arch: 'resnet18',
      inputChannels: 1,
      numClasses: codes.length,
      stem: 'compact',
      widthMultiplier: 0.125,
      depthMultiplier: 0.5,
      initSeed: seed,
    });
    await publishModelSet(store, {
      modelSet,
      version,
      codes,
      members: [
        {
          name: 'tiny',
          kind: 'kzr',
          model,
          input: { channels: 1, scaleSize: 18, cropSize: 16, mean: [0.5], std: [0.25] },
        },
      ],
      pagePreprocessing: 'none',
      createdAt,
    });
    model.dispose();
  }
  const bus = await NatsBus.connect({ servers: natsUrl, name: 'fault-run' });
  try {
    await announceServedVersion(bus, modelSet, 'v0');
  } finally {
    await bus.close();
  }
}

/** The sha256 of each member's files, `[name, weights or onnx, class map]`. */
export function memberHashes(manifest: ModelSetManifest): string[][] {
  return manifest.members.map((m) =>
    m.kind === 'kzr' ? [m.name, m.weights.sha256, m.classMap.sha256] : [m.name, m.onnx.sha256, m.classMap.sha256],
  );
}

/** Every event id the Bus's stream delivers from now on, on a durable consumer of its own. */
export class EventAudit {
  readonly ids = new Set<string>();
  /** Versions of `kzr.models.published` events, by model set. */
  readonly published = new Set<string>();
  readonly #bus: NatsBus;
  #subscription: Subscription | undefined;

  private constructor(bus: NatsBus) {
    this.#bus = bus;
  }

  static async start(natsUrl: string): Promise<EventAudit> {
    const audit = new EventAudit(await NatsBus.connect({ servers: natsUrl, name: 'fault-audit' }));
    audit.#subscription = await audit.#bus.consume(
      { durable: 'fault-audit', filterSubject: 'kzr.>', maxInFlight: 16 },
      async (m) => {
        if (m.kind === 'event' && m.subject === EventSubject.ModelsPublished) {
          audit.published.add(`${m.event.model?.modelSet}/${m.event.model?.version}`);
        }
        audit.ids.add(m.id);
      },
    );
    return audit;
  }

  async stop(): Promise<void> {
    await this.#subscription?.stop();
    await this.#bus.close();
  }
}

/** What {@link auditRun} found. */
export interface RunAudit {
  /** Phase events of the run's records, and the `kzr.models.published` of its version, the Bus never delivered. */
  readonly eventsLost: string[];
  /** More than one run per request, a version other than the run's, a phase completed twice (in the records or as Jobs). */
  readonly appliedTwice: string[];
  /** A model-set manifest naming a member missing or not matching its sha256. */
  readonly partialObjects: string[];
}

/**
 * Audits the Store, the Jobs and the delivered events after `run` ended; `versions` are the
 * model-set versions published besides the run's.
 */
export async function auditRun(
  store: Store,
  deployment: Deployment,
  run: string,
  events: EventAudit,
  versions: readonly string[],
): Promise<RunAudit> {
  const record = await readRunRecord(store, run);
  const eventsLost: string[] = [];
  const appliedTwice: string[] = [];
  const completed = new Map<string, number>();
  for (const e of record.events) {
    if (e.type === 'completed') completed.set(e.phase, (completed.get(e.phase) ?? 0) + 1);
    const status = e.type === 'started' ? 'running' : e.type === 'completed' ? 'succeeded' : e.type;
    if (!['running', 'succeeded', 'failed'].includes(status) || !('attempt' in e)) continue;
    const id = `phase-${run}-${e.phase.replace('/', '.')}-a${e.attempt}-${status}`;
    if (!events.ids.has(id)) eventsLost.push(id);
  }
  if (!events.published.has(`${modelSet}/${run}`)) eventsLost.push(`kzr.models.published ${modelSet}/${run}`);
  for (const [phase, n] of completed) if (n > 1) appliedTwice.push(`${phase} completed ${n} times`);
  const runs = await listRuns(store);
  if (runs.length !== 1 || runs[0] !== run) appliedTwice.push(`runs ${runs.join(', ')} for the one request ${run}`);
  const jobsDone = new Map<string, number>();
  for (const job of deployment.kube.jobs()) {
    if (!job.status?.conditions?.some((c) => c.type === 'Complete')) continue;
    const phase = job.metadata.name.replace(/-a\d+$/, '');
    jobsDone.set(phase, (jobsDone.get(phase) ?? 0) + 1);
  }
  for (const [phase, n] of jobsDone) if (n > 1) appliedTwice.push(`Job ${phase} completed ${n} times`);

  const partialObjects: string[] = [];
  for (const info of await store.list(modelSetsPrefix())) {
    const key = parseModelSetManifestKey(info.key);
    if (key === undefined) continue;
    if (key.modelSet === modelSet && ![...versions, run].includes(key.version)) {
      appliedTwice.push(`model-set version ${key.modelSet}/${key.version} besides the run's`);
    }
    const manifest = await readModelSetManifest(store, key.modelSet, key.version);
    for (const m of manifest.members) {
      for (const file of m.kind === 'kzr' ? [m.weights, m.classMap] : [m.onnx, m.classMap]) {
        const bytes = await store.getBytes(modelSetFileKey(key.modelSet, key.version, file.key)).catch(() => undefined);
        const sha256 = bytes && createHash('sha256').update(bytes).digest('hex');
        if (sha256 !== file.sha256) partialObjects.push(`${info.key}: ${file.key} ${bytes ? 'mismatched' : 'missing'}`);
      }
    }
  }
  return { eventsLost, appliedTwice, partialObjects };
}

/** A kill as it happened: when the part went down and when it answered again (ms since the traffic began). */
export interface KillWindow {
  readonly target: FaultTarget;
  readonly killedMs: number;
  readonly backMs: number;
  /** What was killed (the Job's name for a phase job). */
  readonly what: string;
}

/** What {@link runWithFaults} resolves with. */
export interface FaultRunReport {
  readonly run: RunState;
  readonly traffic: TrafficReport;
  readonly kills: readonly KillWindow[];
  /** Failed requests that were not in flight during a kill (its window, the part back + `graceMs`). */
  readonly failedOutsideKills: number;
  readonly audit: RunAudit;
  /** The members' hashes of the version the run published (undefined when it published none). */
  readonly hashes: string[][] | undefined;
  readonly seconds: number;
}

/** A kill's window ends this long after its part answers again (clients reconnecting, the set loading). */
const graceMs = 5000;

/**
 * Runs `run` (smoke, on `dataset`, already stored) through `deployment` with `seconds` of
 * RecognizePage traffic from its request, doing `faults` at their times and a promote of v1 at
 * `promoteAtMs` (v0 and v1 published first); waits for the run to end and audits it.
 */
export async function runWithFaults(options: {
  readonly deployment: Deployment;
  readonly books: string;
  readonly dataset: string;
  readonly run: string;
  readonly seconds: number;
  readonly faults: readonly Fault[];
  readonly promoteAtMs?: number;
  readonly concurrency?: number;
  readonly runTimeoutMs: number;
  readonly log?: (line: string) => void;
}): Promise<FaultRunReport> {
  const { deployment, run } = options;
  const log = options.log ?? (() => undefined);
  const store = await deployment.openStore();
  try {
    await publishServedVersions(store, deployment.nats.url);
    const inference = deployment.endpoint('inference');
    const deadline = Date.now() + 120_000;
    while ((await checkHealth(inference, `kzr.v1.Inference/${modelSet}`).catch(() => '')) !== 'SERVING') {
      assert.ok(Date.now() < deadline, 'inference serves v0 within 120 s');
      await sleep(250);
    }
    const events = await EventAudit.start(deployment.nats.url);
    const request = await recognizeRequest(options.books, modelSet);
    // The clock of the traffic, the faults and the promote starts once the run is asked for.
    await requestSmokeRun(deployment, options.dataset, run);
    const started = performance.now();
    const traffic = startRecognizeTraffic(inference, request, {
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    });
    const kills: KillWindow[] = [];
    const faults = options.faults.map(async (fault) => {
      await sleep(fault.atMs);
      kills.push(await doFault(deployment, fault, traffic.elapsedMs, log));
    });
    const promoted =
      options.promoteAtMs === undefined
        ? Promise.resolve()
        : sleep(options.promoteAtMs).then(() => promote(deployment, log, traffic.elapsedMs));
    // Awaited below: one that fails meanwhile must not end the process before the deployment stops.
    for (const pending of [...faults, promoted]) pending.catch(() => undefined);
    await sleep(options.seconds * 1000);
    const report = await traffic.stop();
    log(`traffic stopped: ${report.sent} sent, ${report.failed.length} failed`);
    await Promise.all([...faults, promoted]);
    const state = await waitForRun(store, run, options.runTimeoutMs);
    const seconds = (performance.now() - started) / 1000;
    log(`run ${run} ${state.status} after ${seconds.toFixed(0)} s`);
    // The last events of the run reach the audit's consumer shortly after the record.
    await sleep(2000);
    await events.stop();
    const audit = await auditRun(store, deployment, run, events, ['v0', 'v1']);
    const hashes =
      state.status === 'succeeded' ? memberHashes(await readModelSetManifest(store, modelSet, run)) : undefined;
    const failedOutsideKills = report.failed.filter(
      (f) => !kills.some((k) => f.sentMs <= k.backMs + graceMs && f.endedMs >= k.killedMs),
    ).length;
    return { run: state, traffic: report, kills, failedOutsideKills, audit, hashes, seconds };
  } finally {
    await store.close();
  }
}

/** Kills the fault's target and starts it again; the Job of a phase job is left to its controller. */
async function doFault(
  deployment: Deployment,
  fault: Fault,
  elapsedMs: () => number,
  log: (line: string) => void,
): Promise<KillWindow> {
  if (fault.target === 'phase job') {
    // The first Job whose pod runs from the fault's time on.
    for (;;) {
      const [name] = deployment.kube.runningPods();
      if (name !== undefined && deployment.kube.killPod(name)) {
        const at = elapsedMs();
        log(`killed the pod of Job ${name} at ${(at / 1000).toFixed(1)} s`);
        return { target: fault.target, killedMs: at, backMs: at, what: name };
      }
      await sleep(250);
    }
  }
  const killedMs = elapsedMs();
  await deployment.kill(fault.target);
  log(`killed ${fault.target} at ${(killedMs / 1000).toFixed(1)} s`);
  await sleep(fault.downMs);
  await deployment.start(fault.target);
  const backMs = elapsedMs();
  log(`${fault.target} back at ${(backMs / 1000).toFixed(1)} s`);
  return { target: fault.target, killedMs, backMs, what: fault.target };
}

/** PromoteVersion of v1 through the trainer, sent again while the trainer is UNAVAILABLE. */
async function promote(deployment: Deployment, log: (line: string) => void, elapsedMs: () => number): Promise<void> {
  const client = new TrainerClient(deployment.endpoint('trainer'), grpc.credentials.createInsecure());
  try {
    for (;;) {
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.promoteVersion(
          { modelSet, version: 'v1' },
          new grpc.Metadata(),
          { deadline: Date.now() + 30_000 },
          (e) => resolve(e),
        ),
      );
      if (err === null) break;
      assert.equal(err.code, grpc.status.UNAVAILABLE, `PromoteVersion: ${err.message}`);
      await sleep(500);
    }
    log(`promoted ${modelSet}/v1 at ${(elapsedMs() / 1000).toFixed(1)} s`);
  } finally {
    client.close();
  }
}
