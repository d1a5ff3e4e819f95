/**
 * The Bus contract: one suite, the same test names, run against every implementation
 * (bus-memory.test.ts, bus-nats.test.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { CropsReady, PagesIngested } from '@kzr/api/kzr/v1/events';
import { errorKindOf, KzrError } from '@kzr/core';

import { sleep, waitUntil } from './wait.js';

import {
  type Bus,
  type BusMessage,
  type DeadLetterMessage,
  deadLetterSubject,
  type EventMessage,
  EventSubject,
  NotFoundError,
  NotReadyError,
  ValidationError,
} from '@kzr/platform';

/** How a suite gets buses of one implementation. */
export interface BusHarness {
  /** Prepares a fresh, empty stream for the next test. */
  reset(): Promise<void>;
  /** A bus client on the current stream; each call is another replica. */
  connect(): Promise<Bus>;
  /** Stores bytes on a subject without any check (a misbehaving publisher). */
  publishRaw(subject: string, body: Uint8Array, id: string): Promise<void>;
}

function pages(dataset: string, pageIds: string[] = ['p1']): PagesIngested {
  return {
    meta: undefined,
    dataset,
    pageIds,
    labelsKey: `datasets/${dataset}/labels.csv`,
    unicodeTranslationKey: '',
    detectionKeys: [],
  };
}

/** Defines the contract suite for one implementation. */
export function busContract(name: string, harness: BusHarness): void {
  describe(`Bus contract: ${name}`, () => {
    const opened: Bus[] = [];
    let durable = '';
    const connect = async (): Promise<Bus> => {
      const bus = await harness.connect();
      opened.push(bus);
      return bus;
    };

    beforeEach(async () => {
      await harness.reset();
      durable = `d${randomUUID().slice(0, 8)}`;
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((bus) => bus.close()));
    });

    it('delivers a published event once acked, with the envelope filled in', async () => {
      const bus = await connect();
      const result = await bus.publish(EventSubject.PagesIngested, pages('alpha'), { id: 'e-1' });
      assert.equal(result.duplicate, false);
      // The filter matches one event subject, so the handler gets that subject's message type.
      const seen: Array<EventMessage<typeof EventSubject.PagesIngested>> = [];
      await bus.consume({ durable, filterSubject: 'kzr.pages.*', ackWaitMs: 500 }, async (m) => {
        seen.push(m);
      });
      await waitUntil(() => seen.length === 1, 5000, 'the delivery');
      await sleep(800);
      assert.equal(seen.length, 1, 'acked by returning: no redelivery after the ack wait');
      const message = seen[0]!;
      assert.equal(message.kind, 'event');
      assert.equal(message.subject, 'kzr.pages.ingested');
      assert.equal(message.id, 'e-1');
      assert.equal(message.deliveryCount, 1);
      const event = message.event;
      assert.equal(event.dataset, 'alpha');
      assert.deepEqual(event.pageIds, ['p1']);
      assert.equal(event.meta?.id, 'e-1');
      assert.equal(event.meta?.schemaVersion, 1);
      assert.ok(Math.abs(Date.parse(event.meta?.publishedAt ?? '') - Date.now()) < 60_000);
      assert.ok(event.meta?.source);
    });

    it('drops a second publish of the same id inside the duplicate window', async () => {
      const bus = await connect();
      const first = await bus.publish(EventSubject.PagesIngested, pages('one'), { id: 'same' });
      const second = await bus.publish(EventSubject.PagesIngested, pages('two'), { id: 'same' });
      const third = await bus.publish(EventSubject.PagesIngested, pages('three'), { id: 'other' });
      assert.deepEqual([first.duplicate, second.duplicate, third.duplicate], [false, true, false]);
      assert.equal(second.sequence, first.sequence);
      const seen: string[] = [];
      await bus.consume({ durable, filterSubject: 'kzr.pages.ingested' }, async (m) => {
        seen.push(m.event.dataset);
      });
      await waitUntil(() => seen.length === 2, 5000, 'two deliveries');
      await sleep(200);
      assert.deepEqual(seen, ['one', 'three']);
    });

    it('redelivers after a nak with its delay and counts the deliveries', async () => {
      const bus = await connect();
      await bus.publish(EventSubject.PagesIngested, pages('n'), { id: 'nak-1' });
      const at: Array<{ count: number; ms: number }> = [];
      await bus.consume({ durable, filterSubject: 'kzr.pages.ingested', ackWaitMs: 5000 }, async (m) => {
        at.push({ count: m.deliveryCount, ms: Date.now() });
        if (m.deliveryCount === 1) await m.nak(300);
      });
      await waitUntil(() => at.length === 2, 5000, 'the redelivery');
      assert.deepEqual(
        at.map((a) => a.count),
        [1, 2],
      );
      assert.ok(at[1]!.ms - at[0]!.ms >= 250, `redelivered after ${at[1]!.ms - at[0]!.ms} ms, before the nak delay`);
      await sleep(300);
      assert.equal(at.length, 2, 'acked on the second delivery');
    });

    it('redelivers after the ack wait when the handler neither acks nor fails', async () => {
      const bus = await connect();
      await bus.publish(EventSubject.PagesIngested, pages('slow'), { id: 'wait-1' });
      const at: Array<{ count: number; ms: number }> = [];
      let release: () => void = () => {};
      const hold = new Promise<void>((resolve) => (release = resolve));
      await bus.consume({ durable, filterSubject: 'kzr.pages.ingested', ackWaitMs: 600, maxInFlight: 2 }, async (m) => {
        at.push({ count: m.deliveryCount, ms: Date.now() });
        if (m.deliveryCount === 1) await hold;
      });
      await waitUntil(() => at.length === 2, 5000, 'the redelivery after the ack wait');
      release();
      assert.equal(at[1]!.count, 2);
      assert.ok(at[1]!.ms - at[0]!.ms >= 500, `redelivered after ${at[1]!.ms - at[0]!.ms} ms`);
    });

    it('sends the message to kzr.dlq.<subject> with the reason after the last allowed delivery', async () => {
      const bus = await connect();
      await bus.publish(EventSubject.PagesIngested, pages('bad'), { id: 'dlq-1' });
      let deliveries = 0;
      await bus.consume(
        { durable, filterSubject: 'kzr.pages.ingested', maxDeliver: 3, retryDelaysMs: [50], ackWaitMs: 5000 },
        async () => {
          deliveries++;
          throw new Error('disk on fire');
        },
      );
      // A dead-letter filter gets dead letters only.
      const letters: DeadLetterMessage[] = [];
      await bus.consume(
        { durable: `${durable}-dlq`, filterSubject: deadLetterSubject(EventSubject.PagesIngested) },
        async (m) => {
          letters.push(m);
        },
      );
      await waitUntil(() => letters.length === 1, 8000, 'the dead letter');
      await sleep(300);
      assert.equal(deliveries, 3);
      const letter = letters[0]!;
      assert.equal(letter.kind, 'dead-letter');
      assert.equal(letter.subject, 'kzr.dlq.kzr.pages.ingested');
      assert.equal(letter.deadLetter.id, 'dlq-1');
      assert.equal(letter.deadLetter.subject, 'kzr.pages.ingested');
      assert.equal(letter.deadLetter.deliveryCount, 3);
      assert.equal(letter.deadLetter.consumer, durable);
      assert.match(letter.deadLetter.reason, /max deliveries/);
      assert.equal((letter.deadLetter.event as { dataset: string }).dataset, 'bad', 'the event kept as JSON');
    });

    it('dead-letters after the last ack wait expires too', async () => {
      const bus = await connect();
      await bus.publish(EventSubject.PagesIngested, pages('hung'), { id: 'hung-1' });
      let deliveries = 0;
      await bus.consume(
        { durable, filterSubject: 'kzr.pages.ingested', maxDeliver: 2, ackWaitMs: 400, maxInFlight: 4 },
        async () => {
          deliveries++;
          await sleep(1500);
        },
      );
      const letters: DeadLetterMessage[] = [];
      await bus.consume({ durable: `${durable}-dlq`, filterSubject: 'kzr.dlq.>' }, async (m) => {
        letters.push(m);
      });
      await waitUntil(() => letters.length === 1, 8000, 'the dead letter');
      assert.equal(deliveries, 2);
      const { deadLetter } = letters[0]!;
      assert.match(deadLetter.reason, /max deliveries reached \(2\); ack wait expired/);
      assert.equal(deadLetter.id, 'hung-1');
      assert.equal(deadLetter.subject, 'kzr.pages.ingested');
      assert.equal(deadLetter.deliveryCount, 2);
      assert.equal(deadLetter.consumer, durable);
      assert.equal((deadLetter.event as { dataset: string }).dataset, 'hung', 'the event kept as JSON');
    });

    it('dead-letters at once on a permanent handler error', async () => {
      const bus = await connect();
      await bus.publish(EventSubject.PagesIngested, pages('perm'), { id: 'perm-1' });
      let deliveries = 0;
      await bus.consume({ durable, filterSubject: 'kzr.pages.ingested', maxDeliver: 5 }, async () => {
        deliveries++;
        throw new ValidationError('dataset', 'no such dataset');
      });
      const letters: DeadLetterMessage[] = [];
      await bus.consume({ durable: `${durable}-dlq`, filterSubject: 'kzr.dlq.>' }, async (m) => {
        letters.push(m);
      });
      await waitUntil(() => letters.length === 1, 5000, 'the dead letter');
      assert.equal(deliveries, 1);
      const letter = letters[0]!;
      assert.match(letter.deadLetter.reason, /ValidationError: dataset: no such dataset/);
    });

    it('delivers first deliveries in publish order at concurrency 1', async () => {
      const bus = await connect();
      // Two subjects interleaved, one consumer on both.
      const ids = Array.from({ length: 30 }, (_v, i) => `o-${String(i).padStart(2, '0')}`);
      for (const [i, id] of ids.entries()) {
        if (i % 3 === 0) {
          await bus.publish(
            EventSubject.FilterPublished,
            { meta: undefined, version: id, modelKey: '', featuresKey: '', threshold: 0.5 },
            { id },
          );
        } else {
          await bus.publish(EventSubject.PagesIngested, pages(id), { id });
        }
      }
      const seen: string[] = [];
      await bus.consume({ durable, filterSubject: 'kzr.*.*', maxInFlight: 1 }, async (m) => {
        seen.push(m.id);
        await sleep(seen.length % 5 === 0 ? 5 : 0);
      });
      await waitUntil(() => seen.length === ids.length, 10_000, 'all deliveries');
      assert.deepEqual(seen, ids);
    });

    it('splits the work between two replicas sharing a durable', async () => {
      const [a, b] = [await connect(), await connect()];
      const byReplica: Record<string, string[]> = { a: [], b: [] };
      const handler = (replica: 'a' | 'b') => async (m: EventMessage<typeof EventSubject.PagesIngested>) => {
        byReplica[replica]!.push(m.event.dataset);
        await sleep(20);
      };
      const options = { durable, filterSubject: EventSubject.PagesIngested, maxInFlight: 1, ackWaitMs: 5000 };
      await a.consume(options, handler('a'));
      await b.consume(options, handler('b'));
      const names = Array.from({ length: 20 }, (_v, i) => `r-${i}`);
      for (const [i, ds] of names.entries()) await a.publish(EventSubject.PagesIngested, pages(ds), { id: `rep-${i}` });
      await waitUntil(() => byReplica['a']!.length + byReplica['b']!.length === names.length, 10_000, 'all work done');
      await sleep(200);
      assert.ok(byReplica['a']!.length > 0 && byReplica['b']!.length > 0, `both worked: ${JSON.stringify(byReplica)}`);
      assert.deepEqual([...byReplica['a']!, ...byReplica['b']!].sort(), [...names].sort(), 'each event handled once');
    });

    it('returns a delivery still running when a stop grace runs out, and the one it held, to another replica at once', async () => {
      const [a, b] = [await connect(), await connect()];
      // A long ack wait: only the returns can bring these messages back within the test.
      const options = {
        durable,
        filterSubject: EventSubject.PagesIngested,
        maxInFlight: 1,
        ackWaitMs: 60_000,
        retryDelaysMs: [100],
      };
      let aborted = false;
      let started = 0;
      const stopping = await a.consume(options, async (m) => {
        started++;
        // Runs until the drain tells it to stop, as a long dataset would.
        await new Promise<void>((resolve) => m.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted = true;
        m.signal.throwIfAborted();
      });
      for (const ds of ['g-1', 'g-2']) await a.publish(EventSubject.PagesIngested, pages(ds), { id: ds });
      await waitUntil(() => started === 1, 5000, 'a started the first');
      await sleep(100); // a pulls the second while its slot is busy (NATS) or it stays in the stream (memory)
      const stoppedAtMs = Date.now();
      await stopping.stop(200);
      assert.ok(aborted, "the handler's signal was aborted");
      const handled: Array<[string, number]> = [];
      await b.consume(options, async (m) => {
        handled.push([m.event.dataset, m.deliveryCount]);
      });
      await waitUntil(() => handled.length === 2, 10_000, 'b handled both');
      assert.ok(Date.now() - stoppedAtMs < 10_000, 'returned, not left to the ack wait');
      assert.deepEqual(handled.map(([ds]) => ds).sort(), ['g-1', 'g-2']);
      assert.equal(handled.find(([ds]) => ds === 'g-1')?.[1], 2, 'the running one was delivered again');
    });

    it('keeps at most maxInFlight handlers running at once', async () => {
      const bus = await connect();
      for (let i = 0; i < 12; i++) await bus.publish(EventSubject.PagesIngested, pages(`f-${i}`), { id: `f-${i}` });
      let running = 0;
      let peak = 0;
      let done = 0;
      await bus.consume({ durable, filterSubject: 'kzr.pages.ingested', maxInFlight: 3 }, async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(40);
        running--;
        done++;
      });
      await waitUntil(() => done === 12, 10_000, 'all handled');
      assert.equal(peak, 3);
      // A second subscriber on the same durable must agree on its filter.
      await assert.rejects(
        bus.consume({ durable, filterSubject: 'kzr.crops.ready' }, async (m) => {
          // @ts-expect-error: the handler of kzr.crops.ready gets a CropsReady, which has no pageIds
          assert.ok(m.event.pageIds);
        }),
        (err: unknown) => err instanceof ValidationError && err.field === 'filterSubject',
      );
    });

    it('rejects an invalid event on publish with a ValidationError naming the field', async () => {
      const bus = await connect();
      const cases: Array<[string, unknown, RegExp]> = [
        ['kzr.pages.ingested', { ...pages('x'), pageCount: 3 }, /event\.pageCount: unknown field/],
        ['kzr.pages.ingested', { ...pages('x'), dataset: 5 }, /event\.dataset: expected a string/],
        ['kzr.crops.ready', { dataset: 'x', cropCount: -1 }, /event\.cropCount: integer out of range/],
        ['kzr.pages.ingested', { ...pages('x'), meta: { id: 'other' } }, /event\.meta\.id/],
        ['kzr.nope', pages('x'), /subject/],
      ];
      for (const [subject, event, pattern] of cases) {
        await assert.rejects(
          bus.publish(subject as EventSubject, event as PagesIngested, { id: `bad-${subject}` }),
          (err: unknown) => err instanceof ValidationError && pattern.test(err.message),
          `${subject} ${JSON.stringify(event)}`,
        );
      }
      // A payload of another subject does not compile; cast through, the schema check rejects it.
      const crops: CropsReady = {
        meta: undefined,
        dataset: 'x',
        split: 'train',
        shardKeys: [],
        indexKey: 'i',
        cropCount: 1,
      };
      await assert.rejects(
        // @ts-expect-error: a kzr.crops.ready payload on kzr.pages.ingested
        bus.publish(EventSubject.PagesIngested, crops, { id: 'bad-crops' }),
        (err: unknown) => err instanceof ValidationError && /event\.split: unknown field/.test(err.message),
      );
      const seen: BusMessage[] = [];
      await bus.consume({ durable, filterSubject: 'kzr.>' }, async (m) => {
        seen.push(m);
      });
      await sleep(300);
      assert.equal(seen.length, 0, 'nothing was stored');
    });

    it('dead-letters a message that fails its schema on receipt, without calling the handler', async () => {
      const bus = await connect();
      const body = new TextEncoder().encode(JSON.stringify({ meta: { id: 'raw-1', schemaVersion: 1 }, dataset: 7 }));
      await harness.publishRaw('kzr.pages.ingested', body, 'raw-1');
      await harness.publishRaw('kzr.pages.ingested', new TextEncoder().encode('{not json'), 'raw-2');
      await bus.publish(EventSubject.PagesIngested, pages('good'), { id: 'raw-3' });
      const seen: string[] = [];
      await bus.consume({ durable, filterSubject: 'kzr.pages.ingested' }, async (m) => {
        seen.push(m.event.dataset);
      });
      const letters: DeadLetterMessage[] = [];
      await bus.consume({ durable: `${durable}-dlq`, filterSubject: 'kzr.dlq.>' }, async (m) => {
        letters.push(m);
      });
      await waitUntil(() => letters.length === 2 && seen.length === 1, 5000, 'two dead letters and one event');
      assert.deepEqual(seen, ['good']);
      const byId = new Map(letters.map((l) => [l.deadLetter.id, l.deadLetter]));
      assert.match(
        byId.get('raw-1')?.reason ?? '',
        /invalid message: ValidationError: event\.dataset: expected a string/,
      );
      assert.match(byId.get('raw-2')?.reason ?? '', /invalid message: ValidationError: event: not UTF-8 JSON/);
      // The letter keeps the body as JSON when it parses, else as its text.
      assert.deepEqual(byId.get('raw-1')?.event, { meta: { id: 'raw-1', schemaVersion: 1 }, dataset: 7 });
      assert.equal(byId.get('raw-2')?.event, '{not json');
    });

    it('answers requests through a responder and reports a missing one', async () => {
      const [server, client] = [await connect(), await connect()];
      await assert.rejects(client.request('rpc.echo', { n: 1 }, { timeoutMs: 500 }), NotReadyError);
      await server.respond('rpc.echo', async (payload) => ({ echoed: payload, at: 'server' }));
      assert.deepEqual(await client.request('rpc.echo', { n: 2 }), { echoed: { n: 2 }, at: 'server' });
      await assert.rejects(client.request('kzr.pages.ingested', {}), ValidationError);
      // Errors keep their kind across the wire; a slow responder hits the timeout.
      await server.respond('rpc.fail', async () => {
        throw new NotFoundError('model set "missing"');
      });
      await assert.rejects(client.request('rpc.fail', {}), (err: unknown) => {
        assert.equal(errorKindOf(err), 'not-found');
        assert.match((err as Error).message, /model set "missing" not found/);
        return true;
      });
      await server.respond('rpc.invalid', async () => {
        throw new ValidationError('dataset', 'unknown dataset "x"');
      });
      await assert.rejects(client.request('rpc.invalid', {}), (err: unknown) => {
        assert.ok(err instanceof KzrError);
        assert.deepEqual([err.kind, err.field, err.message], ['invalid', 'dataset', 'dataset: unknown dataset "x"']);
        return true;
      });
      await server.respond('rpc.slow', () => sleep(1000).then(() => 'late'));
      await assert.rejects(
        client.request('rpc.slow', {}, { timeoutMs: 150 }),
        (err: unknown) => errorKindOf(err) === 'deadline',
      );
    });
  });
}
