import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  formatRunRecord,
  parseRunEvent,
  parseRunRecord,
  reduceRunState,
  RunRecordError,
  type RunEvent,
} from '../src/index.js';
import { graph, sha, spec } from './fixtures.js';

const at = '2026-12-07T18:00:00.000Z';
const started = (phase: string, attempt = 1, resume = false): RunEvent => ({
  type: 'started',
  phase,
  attempt,
  inputHash: sha(`in ${phase}`),
  resume,
  at,
});
const completed = (phase: string, attempt = 1, cacheHit = false): RunEvent => ({
  type: 'completed',
  phase,
  attempt,
  inputHash: sha(`in ${phase}`),
  manifestKey: `runs/r1/${phase}/manifest.json`,
  manifestSha256: sha(`out ${phase}`),
  cacheHit,
  at,
});
const failed = (phase: string, attempt = 1, retryable = true): RunEvent => ({
  type: 'failed',
  phase,
  attempt,
  retryable,
  error: 'the Job vanished',
  at,
});

describe('the run-state reducer', () => {
  const g = graph(2, { execution: { retryLimit: 1 } });

  it('starts queued with every phase pending, and runs once a phase starts', () => {
    const queued = reduceRunState(g, []);
    assert.equal(queued.status, 'queued');
    assert.deepEqual(
      [...queued.phases.values()].map((p) => p.status),
      g.phases.map(() => 'pending'),
    );
    const running = reduceRunState(g, [started('preprocess')]);
    assert.equal(running.status, 'running');
    assert.equal(running.phases.get('preprocess')?.status, 'running');
    assert.equal(running.phases.get('preprocess')?.attempts, 1);
  });

  it('records a completion with its manifest and whether it was a cache hit', () => {
    const state = reduceRunState(g, [started('preprocess'), completed('preprocess'), completed('split', 0, true)]);
    assert.deepEqual(state.phases.get('preprocess'), {
      id: 'preprocess',
      status: 'succeeded',
      attempts: 1,
      inputHash: sha('in preprocess'),
      cacheHit: false,
      manifestKey: 'runs/r1/preprocess/manifest.json',
      manifestSha256: sha('out preprocess'),
      checkpointEpoch: undefined,
      error: undefined,
    });
    assert.equal(state.phases.get('split')?.cacheHit, true);
    assert.equal(state.phases.get('split')?.attempts, 0);
    assert.equal(state.status, 'running');
  });

  it('succeeds when every phase has succeeded', () => {
    const events = g.phases.flatMap((p) => [started(p.id), completed(p.id)]);
    assert.equal(reduceRunState(g, events.slice(0, -1)).status, 'running');
    assert.equal(reduceRunState(g, events).status, 'succeeded');
  });

  it('keeps the run going after a retryable failure and fails it once the retries are spent', () => {
    const once = [started('preprocess'), failed('preprocess')];
    const afterOne = reduceRunState(g, once);
    assert.equal(afterOne.status, 'running');
    assert.deepEqual(afterOne.phases.get('preprocess')?.error, { message: 'the Job vanished', retryable: true });
    const twice = reduceRunState(g, [...once, started('preprocess', 2), failed('preprocess', 2)]);
    assert.equal(twice.status, 'failed');
    assert.equal(twice.failedPhase, 'preprocess');
  });

  it('fails the run at once on a failure that is not retryable', () => {
    const state = reduceRunState(g, [started('preprocess'), failed('preprocess', 1, false)]);
    assert.equal(state.status, 'failed');
    assert.equal(state.failedPhase, 'preprocess');
  });

  it('cancels the run on request; the stopped phase is then recorded cancelled and the run stays cancelled', () => {
    const events: RunEvent[] = [started('preprocess'), { type: 'cancel-requested', reason: 'kzr run cancel', at }];
    const cancelling = reduceRunState(g, events);
    assert.equal(cancelling.status, 'cancelled');
    assert.equal(cancelling.cancelRequested, true);
    assert.equal(cancelling.phases.get('preprocess')?.status, 'running');
    const stopped = reduceRunState(g, [...events, { type: 'cancelled', phase: 'preprocess', attempt: 1, at }]);
    assert.equal(stopped.phases.get('preprocess')?.status, 'cancelled');
    assert.equal(stopped.status, 'cancelled');
    // Final statuses stick: a failure after the request does not turn the run failed.
    const late = reduceRunState(g, [started('split'), ...events, failed('split', 1, false)]);
    assert.equal(late.status, 'cancelled');
  });

  it('keeps the latest checkpoint of any attempt', () => {
    const state = reduceRunState(g, [
      started('preprocess'),
      completed('preprocess'),
      started('split'),
      completed('split'),
      started('first-train/m0'),
      { type: 'checkpoint', phase: 'first-train/m0', attempt: 1, epoch: 1, at },
      { type: 'checkpoint', phase: 'first-train/m0', attempt: 1, epoch: 2, at },
      failed('first-train/m0'),
    ]);
    assert.equal(state.phases.get('first-train/m0')?.checkpointEpoch, 2);
  });

  it("takes a late completion of an older attempt, and ignores an older attempt's late failure", () => {
    const base = [started('preprocess'), failed('preprocess'), started('preprocess', 2)];
    assert.equal(
      reduceRunState(g, [...base, completed('preprocess', 1)]).phases.get('preprocess')?.status,
      'succeeded',
    );
    const stale = reduceRunState(g, [...base, failed('preprocess', 1)]);
    assert.equal(stale.phases.get('preprocess')?.status, 'running');
    // Once succeeded, a second completion changes nothing.
    const twice = reduceRunState(g, [...base, completed('preprocess', 2), completed('preprocess', 1, true)]);
    assert.equal(twice.phases.get('preprocess')?.cacheHit, false);
  });

  it('refuses records that cannot happen, naming the record', () => {
    const refuses = (events: RunEvent[], field: string) =>
      assert.throws(
        () => reduceRunState(g, events),
        (err: unknown) => err instanceof RunRecordError && err.field === field,
      );
    refuses([started('refine/m9')], 'run.events[0].phase');
    refuses([started('preprocess', 2)], 'run.events[0].attempt');
    refuses([started('preprocess'), started('preprocess', 2)], 'run.events[1].type');
    refuses([started('preprocess'), completed('preprocess', 2)], 'run.events[1].attempt');
  });
});

describe('run records', () => {
  const events: RunEvent[] = [
    started('preprocess'),
    { type: 'checkpoint', phase: 'preprocess', attempt: 1, epoch: 1, at },
    completed('preprocess'),
    failed('split'),
    { type: 'cancelled', phase: 'split', attempt: 1, at },
    { type: 'cancel-requested', reason: undefined, at },
  ];
  const record = {
    schemaVersion: 1 as const,
    run: 'r1',
    createdAt: at,
    spec: spec(2),
    external: { dataset: sha('dataset') },
    events,
  };

  it('read back what they were written as', () => {
    assert.deepEqual(parseRunRecord(JSON.parse(formatRunRecord(record))), record);
    for (const event of events) assert.deepEqual(parseRunEvent(JSON.parse(JSON.stringify(event))), event);
  });

  it('refuse a bad field, naming it', () => {
    const refuses = (value: unknown, field: string) =>
      assert.throws(
        () => parseRunRecord(value),
        (err: unknown) => err instanceof RunRecordError && err.field === field,
      );
    const json = JSON.parse(formatRunRecord(record)) as Record<string, unknown> & { events: Record<string, unknown>[] };
    refuses({ ...json, schemaVersion: 2 }, 'run.schemaVersion');
    refuses({ ...json, run: 'R/1' }, 'run.run');
    refuses({ ...json, external: { dataset: 'x' } }, 'run.external.dataset');
    refuses({ ...json, external: {} }, 'run.external.dataset');
    refuses({ ...json, spec: { ...(json.spec as object), models: [] } }, 'run.spec.models');
    refuses({ ...json, events: [{ ...json.events[0], type: 'paused' }] }, 'run.events[0].type');
    refuses({ ...json, events: [{ ...json.events[2], manifestSha256: 'x' }] }, 'run.events[0].manifestSha256');
    refuses({ ...json, events: [{ ...json.events[0], attempt: 0 }] }, 'run.events[0].attempt');
    refuses({ ...json, events: [{ ...json.events[0], phase: 'train/m0' }] }, 'run.events[0].phase');
    refuses({ ...json, events: [{ ...json.events[0], extra: 1 }] }, 'run.events[0].extra');
  });
});
