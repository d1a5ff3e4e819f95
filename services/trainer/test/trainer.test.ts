/**
 * The trainer service on a real nats-server, a filesystem Store and child-process Jobs (the
 * LocalJobRunner running the CLI's phase fixture): StartRun drives a run to its end (idempotent
 * by run_id; WatchRun streams its phases; `kzr.phase.*` events go out), bad input is
 * INVALID_ARGUMENT naming the field, the same `kzr.training.requested` request id twice gives one
 * run, CancelRun stops the running Job, and promote / rollback switch the served version and
 * announce it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';
import { PhaseState, type PhaseStatus } from '@kzr/api/kzr/v1/common';
import { type ListModelSetsResponse, type ListRunsResponse, type Run, TrainerClient } from '@kzr/api/kzr/v1/trainer';
import { listRuns, publishModelSet, readRunRecord, servedModelSetVersion } from '@kzr/artifacts';
import { buildPhaseGraph, parseRunSpec, reduceRunState } from '@kzr/pipeline';
import { createLogger, EventSubject, type JobRunner, LocalJobRunner, NatsBus, type Subscription } from '@kzr/platform';
import { NatsServer } from '@kzr/testkit';

import { compileTrainerConfig } from '../src/config.js';
import { createTrainer, type TrainerRuntime } from '../src/create.js';
import { runNameOfRequest } from '../src/run-create.js';
import { benchSpecJson, fixtureCommand, openBench, type TrainerBench, until } from './bench.js';

const logger = createLogger({ level: 'warn' });

/** Process ids of the training Jobs of `run` (their command lines name both). */
function trainingProcesses(run: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `phase run --run ${run} --phase first-train`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

type Callback<R> = (err: grpc.ServiceError | null, res: R) => void;
function call<Q, R>(method: (request: Q, callback: Callback<R>) => unknown, request: Q): Promise<R> {
  return new Promise((resolve, reject) => method(request, (err, res) => (err ? reject(err) : resolve(res))));
}

function rejectsInvalid(promise: Promise<unknown>, field: string): Promise<void> {
  return assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
    assert.deepEqual(err.metadata.get('kzr-field'), [field]);
    return true;
  });
}

describe('trainer service', () => {
  let bench: TrainerBench;
  let nats: NatsServer;
  let bus: NatsBus;
  let jobs: JobRunner;
  let trainer: TrainerRuntime;
  let client: TrainerClient;
  let phaseEvents: Subscription;
  const seen: Array<{ subject: string; status: PhaseStatus }> = [];

  before(async () => {
    [bench, nats] = await Promise.all([openBench(), NatsServer.start()]);
    bus = await NatsBus.connect({ servers: nats.url, name: 'trainer-test', source: 'test', logger });
    phaseEvents = await bus.consume({ durable: 'test-phases', filterSubject: 'kzr.phase.*' }, async (message) => {
      if (message.kind === 'event' && 'status' in message.event && message.event.status) {
        seen.push({ subject: message.subject, status: message.event.status });
      }
    });
    jobs = new LocalJobRunner({
      baseEnv: {
        ...process.env,
        KZR_DATA_DIR: bench.dataDir,
        KZR_STORE: 'fs',
        KZR_BUS: 'memory',
        FIXTURE_EPOCHS: '1',
        FIXTURE_EPOCH_MS: '3000',
      },
    });
    const config = compileTrainerConfig({
      KZR_DATA_DIR: bench.dataDir,
      KZR_GRPC_PORT: '0',
      KZR_TRAINER_JOB_COMMAND: fixtureCommand,
      KZR_TRAINER_POLL_MS: '100',
    });
    trainer = await createTrainer({ config, bus, store: bench.store, jobs, logger });
    client = new TrainerClient(trainer.server.endpoint, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await trainer?.close();
    await jobs?.close();
    await phaseEvents?.stop();
    await bus?.close();
    await nats?.stop();
    await bench?.close();
  });

  it('starts a run by id once, streams its phases to the end, and announces each phase', async () => {
    const request = { runId: 'grpc-1', preset: '', specJson: benchSpecJson(1), spec: undefined };
    assert.deepEqual(await call(client.startRun.bind(client), request), { runId: 'grpc-1' });
    // The same id again: the same run, not a second one.
    assert.deepEqual(await call(client.startRun.bind(client), request), { runId: 'grpc-1' });

    const watched: PhaseStatus[] = [];
    for await (const status of client.watchRun({ runId: 'grpc-1' })) watched.push(status as PhaseStatus);
    const run: Run = await call(client.getRun.bind(client), { runId: 'grpc-1' });
    const graph = buildPhaseGraph(parseRunSpec(JSON.parse(benchSpecJson(1))));
    assert.equal(run.phases.length, graph.phases.length);
    assert.ok(
      run.phases.every((p) => p.state === PhaseState.PHASE_STATE_SUCCEEDED && p.outputKeys.length === 1),
      JSON.stringify(run.phases.map((p) => p.state)),
    );
    assert.equal(run.spec?.dataset, 'd1');
    // The stream ends once the run is final, its last word on each phase being the final one.
    const last = new Map(watched.map((s) => [`${s.phase}/${s.modelConfig}`, s.state]));
    assert.equal(last.size, graph.phases.length);
    assert.ok([...last.values()].every((s) => s === PhaseState.PHASE_STATE_SUCCEEDED));

    const records = (await readRunRecord(bench.store, 'grpc-1')).events;
    assert.equal(records.filter((e) => e.type === 'started').length, graph.phases.length);
    await until(
      'the phase events',
      async () => seen.filter((e) => e.status.runId === 'grpc-1').length === 2 * graph.phases.length,
    );
    const mine = seen.filter((e) => e.status.runId === 'grpc-1');
    assert.equal(mine.filter((e) => e.subject === EventSubject.PhaseStarted).length, graph.phases.length);
    assert.equal(mine.filter((e) => e.subject === EventSubject.PhaseCompleted).length, graph.phases.length);

    const listed: ListRunsResponse = await call(client.listRuns.bind(client), { limit: 0 });
    assert.ok(listed.runs.some((r) => r.runId === 'grpc-1'));
  });

  it('answers bad input INVALID_ARGUMENT naming the field, and an unknown run NOT_FOUND', async () => {
    const start = (request: { runId?: string; preset?: string; specJson?: string; dataset?: string }) =>
      call(client.startRun.bind(client), {
        runId: request.runId ?? '',
        preset: request.preset ?? '',
        specJson: request.specJson ?? '',
        spec:
          request.dataset === undefined
            ? undefined
            : {
                dataset: request.dataset,
                modelConfigs: [],
                valBooks: [],
                seed: 0,
                phases: [],
                modelSet: '',
                labels: {},
              },
      });
    await rejectsInvalid(start({ runId: 'no spaces please', specJson: benchSpecJson(1) }), 'run_id');
    await rejectsInvalid(start({ preset: 'nope' }), 'preset');
    await rejectsInvalid(start({ specJson: '{' }), 'spec_json');
    const badParallelism = JSON.stringify({ ...JSON.parse(benchSpecJson(1)), execution: { parallelism: 0 } });
    await rejectsInvalid(start({ specJson: badParallelism }), 'spec.execution.parallelism');
    await rejectsInvalid(start({ specJson: benchSpecJson(1), dataset: 'not-stored' }), 'spec.dataset');
    await rejectsInvalid(start({ preset: 'smoke' }), 'preset'); // its synthetic dataset is not stored
    await assert.rejects(call(client.getRun.bind(client), { runId: 'nope' }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.NOT_FOUND);
      return true;
    });
    assert.deepEqual(
      (await listRuns(bench.store)).filter((r) => r !== 'grpc-1' && !r.startsWith('r-')),
      [],
      'no run was created',
    );
  });

  it('creates one run for a request id published twice, and CancelRun stops its running Job', async () => {
    const event = { meta: undefined, runId: 'retrain-42', spec: undefined, preset: '', specJson: benchSpecJson(2) };
    // Two events (their own ids, so the Bus keeps both) carrying the same request id.
    await bus.publish(EventSubject.TrainingRequested, event, { id: 'request-a' });
    await bus.publish(EventSubject.TrainingRequested, event, { id: 'request-b' });
    const run = runNameOfRequest('retrain-42');
    await until('the training Job', async () => trainingProcesses(run).length > 0);
    assert.deepEqual(
      (await listRuns(bench.store)).filter((r) => r === run),
      [run],
    );

    const cancelled: Run = await call(client.cancelRun.bind(client), { runId: run });
    assert.equal(cancelled.runId, run);
    await until('the run to end', async () => {
      const record = await readRunRecord(bench.store, run);
      return reduceRunState(buildPhaseGraph(record.spec), record.events).status === 'cancelled';
    });
    const record = await readRunRecord(bench.store, run);
    const state = reduceRunState(buildPhaseGraph(record.spec), record.events);
    assert.equal(state.phases.get('first-train/m1')!.status, 'cancelled');
    // The cancelled Job is removed, its process stopped.
    assert.deepEqual(await jobs.list({ 'kzr.io/run': run, 'kzr.io/phase': 'first-train' }), []);
    await until('the training process to be gone', async () => trainingProcesses(run).length === 0, 5000);
    // One run: every phase started once (both deliveries were handled; the second found the run).
    const started = record.events.flatMap((e) => (e.type === 'started' ? [e.phase] : []));
    assert.deepEqual(started, ['split', 'first-train/m1']); // preprocess of d1 came from the cache
  });

  it('promotes and rolls back a model set version through gRPC, announcing each switch', async () => {
    const input = { channels: 1, scaleSize: 8, cropSize: 8, mean: [0.5], std: [0.25] } as const;
    for (const [version, at] of [
      ['v1', '2026-01-01T00:00:00Z'],
      ['v2', '2026-01-02T00:00:00Z'],
    ] as const) {
      await publishModelSet(bench.store, {
        modelSet: 'set',
        version,
        codes: ['U+3042', 'U+3044'],
        members: [{ name: 'm', kind: 'onnx', onnx: Uint8Array.of(1), input }],
        createdAt: new Date(at),
      });
    }
    const announced: string[] = [];
    const swaps = await bus.consume(
      { durable: 'test-models', filterSubject: EventSubject.ModelsPublished },
      async (message) => {
        announced.push(message.event.model?.version ?? '');
      },
    );
    try {
      const listed: ListModelSetsResponse = await call(client.listModelSets.bind(client), { modelSet: 'set' });
      assert.deepEqual(
        listed.versions.map((v) => [v.version, v.served, v.promoted]),
        [
          ['v2', true, false],
          ['v1', false, false],
        ],
      );
      const promoted = await call(client.promoteVersion.bind(client), { modelSet: 'set', version: 'v1' });
      assert.deepEqual(promoted, { modelSet: 'set', version: 'v1', previous: ['v2'] });
      assert.equal(await servedModelSetVersion(bench.store, 'set'), 'v1');
      const rolledBack = await call(client.rollbackVersion.bind(client), { modelSet: 'set' });
      assert.deepEqual(rolledBack, { modelSet: 'set', version: 'v2', previous: [] });
      assert.equal(await servedModelSetVersion(bench.store, 'set'), 'v2');
      await until('both announcements', async () => announced.length === 2);
      assert.deepEqual(announced, ['v1', 'v2']);
      await rejectsInvalid(call(client.promoteVersion.bind(client), { modelSet: 'set', version: '../x' }), 'version');
    } finally {
      await swaps.stop();
    }
  });
});
