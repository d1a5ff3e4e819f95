import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { PhaseCompleted, TrainingRequested } from '@kzr/api/kzr/v1/events';

import { decodeEvent, encodeEvent, EventSubject, ValidationError } from '@kzr/platform';

const defaults = { id: 'ev-1', source: 'test', now: new Date('2026-01-02T03:04:05Z') };

function rejects(subject: string, event: unknown, field: string): void {
  assert.throws(
    () => encodeEvent(subject, event, defaults),
    (err) => err instanceof ValidationError && err.field === field,
    `${field} in ${JSON.stringify(event)}`,
  );
}

describe('event wire form', () => {
  it('round-trips enums, maps, repeated fields and 64-bit integers through proto3 JSON', () => {
    const event: TrainingRequested = {
      meta: undefined,
      runId: 'run-7',
      spec: {
        dataset: 'kaggle',
        modelConfigs: ['resnet152', 'seresnext101'],
        valBooks: ['200015779'],
        seed: 42,
        phases: [1, 3],
        modelSet: 'kuzushiji',
        labels: { owner: 'kzr', purpose: 'nightly' },
      },
      preset: 'smoke',
      specJson: '',
    };
    const { id, body, json } = encodeEvent(EventSubject.TrainingRequested, event, defaults);
    assert.equal(id, 'ev-1');
    const wire = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    assert.deepEqual(wire, json);
    assert.deepEqual(wire['meta'], {
      id: 'ev-1',
      schemaVersion: 1,
      publishedAt: '2026-01-02T03:04:05.000Z',
      source: 'test',
    });
    assert.deepEqual((wire['spec'] as { phases: unknown }).phases, ['PHASE_PREPROCESS', 'PHASE_FIRST_TRAIN']);
    const back = decodeEvent(EventSubject.TrainingRequested, body) as TrainingRequested;
    assert.deepEqual(back.spec, event.spec);
    assert.equal(back.meta?.id, 'ev-1');
  });

  it('accepts proto field names, enum names and 64-bit integers as strings, as proto3 JSON allows', () => {
    const wire = {
      meta: { id: 'ev-2', schema_version: 1 },
      status: { run_id: 'r', phase: 'PHASE_REFINE', state: 4, progress: '0.5', output_keys: ['a'] },
    };
    const decoded = decodeEvent(
      EventSubject.PhaseCompleted,
      new TextEncoder().encode(JSON.stringify(wire)),
    ) as PhaseCompleted;
    assert.equal(decoded.status?.runId, 'r');
    assert.equal(decoded.status?.phase, 8);
    assert.equal(decoded.status?.progress, 0.5);
    const seedAsString = { runId: 'r', spec: { seed: '18446744073709551615' } };
    assert.doesNotThrow(() => encodeEvent(EventSubject.TrainingRequested, seedAsString, defaults));
  });

  it('rejects unknown fields, wrong types, bad enums and out-of-range integers, naming the field', () => {
    rejects(EventSubject.TrainingRequested, { runId: 'r', spec: { labels: { a: 1 } } }, 'event.spec.labels.a');
    rejects(EventSubject.TrainingRequested, { runId: 'r', spec: { phases: ['PHASE_NOPE'] } }, 'event.spec.phases[0]');
    rejects(EventSubject.TrainingRequested, { runId: 'r', spec: { phases: 'PHASE_SPLIT' } }, 'event.spec.phases');
    rejects(EventSubject.TrainingRequested, { runId: 'r', spec: { seed: -1 } }, 'event.spec.seed');
    rejects(EventSubject.TrainingRequested, { runId: 'r', spec: { seed: 2 ** 60 } }, 'event.spec.seed');
    rejects(EventSubject.TrainingRequested, { runId: 'r', spec: { seed: 1.5 } }, 'event.spec.seed');
    rejects(EventSubject.TrainingRequested, { runId: 'r', spec: { datasets: 'x' } }, 'event.spec.datasets');
    rejects(EventSubject.PhaseFailed, { status: { runId: 'r' }, retryable: 'yes' }, 'event.retryable');
    rejects(EventSubject.FilterPublished, { threshold: 'high' }, 'event.threshold');
    rejects(EventSubject.FilterPublished, { version: 'v', version_: 'v' }, 'event.version_');
    rejects(EventSubject.FilterPublished, { version: 'v', meta: { schemaVersion: 2 } }, 'event.meta.schemaVersion');
    rejects(EventSubject.FilterPublished, [], 'event');
    rejects('kzr.unknown', {}, 'subject');
  });

  it('rejects a received message without an id or with another schema version', () => {
    const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    assert.throws(
      () => decodeEvent(EventSubject.FilterPublished, encode({ version: 'v' })),
      /event\.meta\.id: missing/,
    );
    assert.throws(
      () => decodeEvent(EventSubject.FilterPublished, encode({ meta: { id: 'x', schemaVersion: 3 } })),
      /event\.meta\.schemaVersion: version 3 is not supported/,
    );
    assert.throws(() => decodeEvent(EventSubject.FilterPublished, new Uint8Array([0xff, 0xfe])), /not UTF-8 JSON/);
  });
});
