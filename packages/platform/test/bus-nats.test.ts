import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { PagesIngested } from '@kzr/api/kzr/v1/events';
import { NatsServer } from '@kzr/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { sleep, waitUntil } from './contracts/wait.js';
import { busContract } from './contracts/bus-contract.js';

import { type Bus, createLogger, type EventMessage, EventSubject, NatsBus } from '@kzr/platform';

const quiet = createLogger({ level: 'error' });
let server: NatsServer;
let raw: NatsConnection;

before(async () => {
  server = await NatsServer.start();
  raw = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
});
after(async () => {
  await raw?.close();
  await server?.cleanup();
});

busContract('NATS JetStream', {
  reset: async () => {
    const jsm = await jetstreamManager(raw);
    await jsm.streams.delete('KZR').catch(() => false);
  },
  connect: () => NatsBus.connect({ servers: server.url, name: 'contract-test', logger: quiet }),
  publishRaw: async (subject, body, id) => {
    await jetstream(raw).publish(subject, body, { msgID: id });
  },
});

function pages(dataset: string): PagesIngested {
  return { meta: undefined, dataset, pageIds: [], labelsKey: '', unicodeTranslationKey: '', detectionKeys: [] };
}

describe('NATS Bus across a server restart', () => {
  it('loses no event and redelivers no confirmed ack when the server restarts under a consumer', async () => {
    const jsm = await jetstreamManager(raw);
    await jsm.streams.delete('KZR').catch(() => false);
    const bus: Bus = await NatsBus.connect({
      servers: server.url,
      name: 'restart-test',
      reconnectWaitMs: 100,
      logger: quiet,
    });
    try {
      // Arrange: 20 events; the first 10 are acked (confirmed), the next ones are held unacked.
      const total = 20;
      for (let i = 0; i < total; i++) await bus.publish(EventSubject.PagesIngested, pages(`e${i}`), { id: `r-${i}` });
      const deliveries = new Map<string, number>();
      const ackedBeforeStop = new Set<string>();
      const completed = new Set<string>();
      let holding = true;
      let released: () => void = () => {};
      const gate = new Promise<void>((resolve) => (released = resolve));
      await bus.consume(
        { durable: 'restart', filterSubject: 'kzr.pages.ingested', ackWaitMs: 3000, maxInFlight: 5 },
        async (m) => {
          const name = m.event.dataset;
          deliveries.set(name, (deliveries.get(name) ?? 0) + 1);
          const index = Number(name.slice(1));
          if (index < 10) {
            await m.ack();
            if (holding) ackedBeforeStop.add(name);
          } else if (holding) {
            await gate;
          }
          completed.add(name);
        },
      );
      await waitUntil(() => ackedBeforeStop.size === 10 && deliveries.size >= 15, 10_000, '10 acked and 5 held');
      const held = [...deliveries.keys()].filter((k) => !ackedBeforeStop.has(k));
      assert.equal(held.length, 5, `held ${held.join(',')}`);

      // Act: stop the server while 5 messages are unacked, then start it again on the same port.
      await server.stop();
      await sleep(300);
      holding = false;
      await server.start();
      released();
      await bus.publish(EventSubject.PagesIngested, pages('e20'), { id: 'r-20' });

      // Assert: every event completes; no confirmed ack is delivered again.
      await waitUntil(() => completed.size === total + 1, 20_000, 'every event handled after the restart');
      await sleep(3500); // one ack wait: anything unconfirmed would come back now
      for (const name of ackedBeforeStop) assert.equal(deliveries.get(name), 1, `${name} was acked and came again`);
      assert.deepEqual([...completed].sort(), Array.from({ length: total + 1 }, (_v, i) => `e${i}`).sort());
    } finally {
      await bus.close();
    }
  });

  it('resumes a durable consumer after the server restarts, with no consumer running meanwhile', async () => {
    const jsm = await jetstreamManager(raw);
    await jsm.streams.delete('KZR').catch(() => false);
    const first = await NatsBus.connect({ servers: server.url, name: 'resume-1' });
    const seen: string[] = [];
    const handler = async (m: EventMessage<typeof EventSubject.PagesIngested>): Promise<void> => {
      seen.push(m.event.dataset);
    };
    const sub = await first.consume({ durable: 'resume', filterSubject: 'kzr.pages.ingested' }, handler);
    await first.publish(EventSubject.PagesIngested, pages('before'), { id: 'b-1' });
    await waitUntil(() => seen.length === 1, 5000, 'the first event');
    await sub.stop();
    await first.publish(EventSubject.PagesIngested, pages('while-stopped'), { id: 'b-2' });
    await first.close();

    await server.restart();

    const second = await NatsBus.connect({ servers: server.url, name: 'resume-2' });
    try {
      await second.consume({ durable: 'resume', filterSubject: 'kzr.pages.ingested' }, handler);
      await second.publish(EventSubject.PagesIngested, pages('after'), { id: 'b-3' });
      await waitUntil(() => seen.length === 3, 10_000, 'the events after the restart');
      await sleep(200);
      assert.deepEqual(seen, ['before', 'while-stopped', 'after']);
    } finally {
      await second.close();
    }
  });

  it('connects once a killed server is back when told to wait, and fails at once when not', async () => {
    await server.kill();
    const started = Date.now();
    await assert.rejects(NatsBus.connect({ servers: server.url, name: 'no-wait' }), /connection refused/);
    assert.ok(Date.now() - started < 2000, 'one try');
    const waiting = NatsBus.connect({ servers: server.url, name: 'wait', connectTimeoutMs: 20_000, logger: quiet });
    await sleep(500);
    await server.start();
    const bus = await waiting;
    try {
      assert.equal((await bus.publish(EventSubject.PagesIngested, pages('back'), { id: 'k-1' })).duplicate, false);
    } finally {
      await bus.close();
    }
  });
});
