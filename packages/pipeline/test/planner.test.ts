import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  applyRunEvent,
  buildPhaseGraph,
  initialRunState,
  planRun,
  readyPhases,
  reduceRunState,
  type CachedPhase,
  type PhaseGraph,
  type PhaseId,
  type RunEvent,
  type RunState,
} from '../src/index.js';
import { graph, modelConfig, sha, spec } from './fixtures.js';

const at = '2026-12-07T18:00:00.000Z';
const external = { dataset: sha('dataset') };
const noCache = new Map<string, CachedPhase>();

/** Records an attempt of each phase in `ids`, started and completed, with their real input hashes. */
function complete(g: PhaseGraph, state: RunState, ids: PhaseId[]): RunState {
  for (const id of ids) {
    const ready = readyPhases(g, state, external).find((r) => r.node.id === id);
    assert.ok(ready, `${id} is ready`);
    const attempt = state.phases.get(id)!.attempts + 1;
    state = applyRunEvent(g, state, {
      type: 'started',
      phase: id,
      attempt,
      inputHash: ready.inputHash,
      resume: false,
      at,
    });
    state = applyRunEvent(g, state, {
      type: 'completed',
      phase: id,
      attempt,
      inputHash: ready.inputHash,
      manifestKey: `runs/r/${id}/manifest.json`,
      manifestSha256: sha(`manifest of ${ready.inputHash}`),
      cacheHit: false,
      at,
    });
  }
  return state;
}

function apply(g: PhaseGraph, state: RunState, ...events: RunEvent[]): RunState {
  return events.reduce((s, e) => applyRunEvent(g, s, e), state);
}

/**
 * Runs a whole run the way a controller would: plan, act on every action (a started phase
 * completes at once, with a manifest that is a function of its input hash, unless `fails`
 * says otherwise), record, plan again. Finished phases go into `cache`. Returns the records.
 */
function drive(
  g: PhaseGraph,
  cache: Map<string, CachedPhase>,
  fails: (id: PhaseId, attempt: number) => boolean = () => false,
): { state: RunState; events: RunEvent[] } {
  let state = initialRunState(g);
  const events: RunEvent[] = [];
  const record = (event: RunEvent) => {
    events.push(event);
    state = applyRunEvent(g, state, event);
  };
  for (let round = 0; round < 200; round++) {
    const plan = planRun(g, state, { external, cache });
    if (plan.actions.length === 0) {
      assert.ok(plan.status !== 'running', 'a running run with nothing to do and nothing running');
      return { state, events };
    }
    for (const action of plan.actions) {
      if (action.type === 'skip') {
        record({
          type: 'completed',
          phase: action.phase,
          attempt: action.attempt,
          inputHash: action.inputHash,
          ...action.cached,
          cacheHit: true,
          at,
        });
      } else if (action.type === 'start') {
        record({
          type: 'started',
          phase: action.phase,
          attempt: action.attempt,
          inputHash: action.inputHash,
          resume: action.resume,
          at,
        });
        if (fails(action.phase, action.attempt)) {
          record({
            type: 'failed',
            phase: action.phase,
            attempt: action.attempt,
            retryable: true,
            error: 'killed',
            at,
          });
          continue;
        }
        const cached = {
          manifestKey: `runs/r/${action.phase}/manifest.json`,
          manifestSha256: sha(`manifest of ${action.inputHash}`),
        };
        cache.set(action.inputHash, cached);
        record({
          type: 'completed',
          phase: action.phase,
          attempt: action.attempt,
          inputHash: action.inputHash,
          ...cached,
          cacheHit: false,
          at,
        });
      } else {
        record({ type: 'cancelled', phase: action.phase, attempt: action.attempt, at });
      }
    }
  }
  throw new Error('the run did not end');
}

describe('the planner', () => {
  it('starts preprocess first, as attempt 1, and nothing else', () => {
    const g = graph(3);
    const plan = planRun(g, initialRunState(g), { external, cache: noCache });
    assert.equal(plan.status, 'queued');
    assert.deepEqual(plan.actions, [
      {
        type: 'start',
        phase: 'preprocess',
        attempt: 1,
        inputHash: readyPhases(g, initialRunState(g), external)[0]!.inputHash,
        resume: false,
      },
    ]);
  });

  it('starts at most execution.parallelism model phases at once and holds back the rest', () => {
    const g = graph(3, { execution: { parallelism: 2 } });
    const state = complete(g, initialRunState(g), ['preprocess', 'split']);
    const plan = planRun(g, state, { external, cache: noCache });
    assert.deepEqual(
      plan.actions.map((a) => `${a.type} ${a.phase}`),
      ['start first-train/m0', 'start first-train/m1'],
    );
    assert.deepEqual(plan.waiting, ['first-train/m2']);
    // One of the two running: one slot left, and the running ones are not started again.
    const running = apply(g, state, {
      type: 'started',
      phase: 'first-train/m0',
      attempt: 1,
      inputHash: sha('x'),
      resume: false,
      at,
    });
    const next = planRun(g, running, { external, cache: noCache });
    assert.deepEqual(
      next.actions.map((a) => a.phase),
      ['first-train/m1'],
    );
    assert.deepEqual(next.waiting, ['first-train/m2']);
  });

  it('skips a phase whose input hash is cached, without using a parallelism slot', () => {
    const g = graph(3, { execution: { parallelism: 1 } });
    const state = complete(g, initialRunState(g), ['preprocess', 'split']);
    const hashes = new Map(readyPhases(g, state, external).map((r) => [r.node.id, r.inputHash]));
    const cached = { manifestKey: 'runs/old/first-train/m1/manifest.json', manifestSha256: sha('old m1') };
    const plan = planRun(g, state, { external, cache: new Map([[hashes.get('first-train/m1')!, cached]]) });
    assert.deepEqual(plan.actions, [
      { type: 'start', phase: 'first-train/m0', attempt: 1, inputHash: hashes.get('first-train/m0'), resume: false },
      { type: 'skip', phase: 'first-train/m1', attempt: 0, inputHash: hashes.get('first-train/m1'), cached },
    ]);
    assert.deepEqual(plan.waiting, ['first-train/m2']);
  });

  it('retries a retryable failure, resuming when a checkpoint was recorded, and fails the run after the limit', () => {
    const g = graph(2, { execution: { retryLimit: 2, parallelism: 2 } });
    let state = complete(g, initialRunState(g), ['preprocess', 'split']);
    const hash = readyPhases(g, state, external).find((r) => r.node.id === 'first-train/m0')!.inputHash;
    const start = (attempt: number, resume = false): RunEvent => ({
      type: 'started',
      phase: 'first-train/m0',
      attempt,
      inputHash: hash,
      resume,
      at,
    });
    const fail = (attempt: number): RunEvent => ({
      type: 'failed',
      phase: 'first-train/m0',
      attempt,
      retryable: true,
      error: 'killed mid-epoch',
      at,
    });
    state = apply(
      g,
      state,
      start(1),
      { type: 'started', phase: 'first-train/m1', attempt: 1, inputHash: sha('m1'), resume: false, at },
      fail(1),
    );
    assert.deepEqual(planRun(g, state, { external, cache: noCache }).actions, [
      { type: 'start', phase: 'first-train/m0', attempt: 2, inputHash: hash, resume: false },
    ]);
    state = apply(
      g,
      state,
      start(2),
      { type: 'checkpoint', phase: 'first-train/m0', attempt: 2, epoch: 3, at },
      fail(2),
    );
    assert.deepEqual(planRun(g, state, { external, cache: noCache }).actions, [
      { type: 'start', phase: 'first-train/m0', attempt: 3, inputHash: hash, resume: true },
    ]);
    state = apply(g, state, start(3, true), fail(3));
    const plan = planRun(g, state, { external, cache: noCache });
    assert.equal(plan.status, 'failed');
    assert.equal(state.failedPhase, 'first-train/m0');
    // Nothing starts; what still runs is stopped.
    assert.deepEqual(plan.actions, [{ type: 'cancel', phase: 'first-train/m1', attempt: 1, reason: 'run-failed' }]);
  });

  it('fails the run at once on a failure that is not retryable', () => {
    const g = graph(2);
    const state = apply(
      g,
      initialRunState(g),
      { type: 'started', phase: 'preprocess', attempt: 1, inputHash: sha('p'), resume: false, at },
      {
        type: 'failed',
        phase: 'preprocess',
        attempt: 1,
        retryable: false,
        error: 'labels.csv: line 3: bad code',
        at,
      },
    );
    assert.deepEqual(planRun(g, state, { external, cache: noCache }), { status: 'failed', actions: [], waiting: [] });
  });

  it('cancels every running phase of a cancelled run and then has nothing to do', () => {
    const g = graph(3, { execution: { parallelism: 3 } });
    let state = complete(g, initialRunState(g), ['preprocess', 'split']);
    for (const m of ['m0', 'm2']) {
      state = apply(g, state, {
        type: 'started',
        phase: `first-train/${m}`,
        attempt: 1,
        inputHash: sha(m),
        resume: false,
        at,
      });
    }
    state = apply(g, state, { type: 'cancel-requested', reason: undefined, at });
    assert.deepEqual(planRun(g, state, { external, cache: noCache }).actions, [
      { type: 'cancel', phase: 'first-train/m0', attempt: 1, reason: 'run-cancelled' },
      { type: 'cancel', phase: 'first-train/m2', attempt: 1, reason: 'run-cancelled' },
    ]);
    state = apply(
      g,
      state,
      { type: 'cancelled', phase: 'first-train/m0', attempt: 1, at },
      { type: 'cancelled', phase: 'first-train/m2', attempt: 1, at },
    );
    assert.deepEqual(planRun(g, state, { external, cache: noCache }), {
      status: 'cancelled',
      actions: [],
      waiting: [],
    });
  });

  it('starts publish only when every other phase has succeeded', () => {
    const g = graph(2, { execution: { parallelism: 2 } });
    // Records out of the usual order: everything publish reads has succeeded, but first-train/m1 has not.
    const all = g.phases.map((p) => p.id).filter((id) => id !== 'publish');
    let state = initialRunState(g);
    for (const id of all.filter((id) => id !== 'first-train/m1')) {
      state = apply(g, state, {
        type: 'completed',
        phase: id,
        attempt: 0,
        inputHash: sha(id),
        manifestKey: `k/${id}`,
        manifestSha256: sha(`m ${id}`),
        cacheHit: true,
        at,
      });
    }
    assert.deepEqual(
      planRun(g, state, { external, cache: noCache }).actions.map((a) => a.phase),
      ['first-train/m1'],
    );
    state = complete(g, state, ['first-train/m1']);
    assert.deepEqual(
      planRun(g, state, { external, cache: noCache }).actions.map((a) => a.phase),
      ['publish'],
    );
  });

  it('runs a whole run with publish last; a second run with the same inputs skips every phase', () => {
    const g = graph(5, { execution: { parallelism: 2 } });
    const cache = new Map<string, CachedPhase>();
    const first = drive(g, cache);
    assert.equal(first.state.status, 'succeeded');
    const startOrder = first.events.filter((e) => e.type === 'started').map((e) => (e as { phase: string }).phase);
    assert.equal(startOrder.length, g.phases.length);
    assert.equal(startOrder.at(-1), 'publish');

    const second = drive(g, cache);
    assert.equal(second.state.status, 'succeeded');
    assert.equal(second.events.filter((e) => e.type === 'started').length, 0);
    assert.ok([...second.state.phases.values()].every((p) => p.cacheHit));
    // Same manifests, so the same model set is published.
    assert.equal(second.state.phases.get('publish')?.manifestSha256, first.state.phases.get('publish')?.manifestSha256);
  });

  it("reruns only a changed model's phases and those downstream; the rest are cache hits", () => {
    const cache = new Map<string, CachedPhase>();
    drive(graph(3), cache);
    const json = spec(3);
    const changed = buildPhaseGraph({
      ...json,
      models: json.models.map((m) => (m.name === 'm2' ? { ...m, config: modelConfig('m2', 11) } : m)),
    });
    const { state, events } = drive(changed, cache);
    assert.equal(state.status, 'succeeded');
    const ran = events.filter((e) => e.type === 'started').map((e) => (e as { phase: string }).phase);
    assert.deepEqual(ran, [
      'first-train/m2',
      'first-infer',
      'first-filter',
      'pseudo-label',
      'second-train/m0',
      'second-train/m1',
      'second-train/m2',
      'refine/m0',
      'refine/m1',
      'refine/m2',
      'final-infer',
      'publish',
    ]);
    assert.deepEqual(
      [...state.phases.values()].filter((p) => p.cacheHit).map((p) => p.id),
      ['preprocess', 'split', 'first-train/m0', 'first-train/m1'],
    );
  });

  it('completes a run whose training fails once, the retry resuming after its checkpoint', () => {
    const g = graph(2, { execution: { retryLimit: 1 } });
    const { state, events } = drive(g, new Map(), (id, attempt) => id === 'second-train/m1' && attempt === 1);
    assert.equal(state.status, 'succeeded');
    assert.equal(state.phases.get('second-train/m1')?.attempts, 2);
    // No checkpoint was recorded, so the retry starts over.
    assert.deepEqual(
      events
        .filter((e) => e.type === 'started' && e.phase === 'second-train/m1')
        .map((e) => (e as { resume: boolean }).resume),
      [false, false],
    );
    assert.equal(reduceRunState(g, events).status, 'succeeded');
  });
});
