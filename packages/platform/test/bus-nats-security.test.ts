/**
 * The NATS Bus against a real nats-server with TLS (a test CA), an account with JetStream and
 * users whose permissions differ: authorised publish and consume work, a subject outside the
 * user's permissions is refused, and a connection without credentials is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ModelsPublished, type PagesIngested } from '@kzr/api/kzr/v1/events';
import { NatsServer, TestPki } from '@kzr/testkit';

import { waitUntil } from './contracts/wait.js';
import { compileAdapterConfig, ConfigError, createLogger, EventSubject, NatsBus } from '../src/index.js';

const quiet = createLogger({ level: 'error' });
let pki: TestPki;
let server: NatsServer;

/** What every kzr service needs besides its own subjects: the JetStream API, acks, inboxes, advisories. */
const jetStreamPublish = ['"$JS.API.>"', '"$JS.ACK.>"', '"_INBOX.>"'];
const jetStreamSubscribe = ['"_INBOX.>"', '"$JS.EVENT.ADVISORY.>"'];

before(async () => {
  pki = await TestPki.create();
  const cert = await pki.issue('nats');
  server = await NatsServer.start({
    extraConfig: [
      'tls {',
      `  cert_file: ${JSON.stringify(cert.certFile)}`,
      `  key_file: ${JSON.stringify(cert.keyFile)}`,
      '}',
      'accounts {',
      '  KZR {',
      '    jetstream: enabled',
      '    users: [',
      // The preprocess worker: ingests pages, may not publish model sets.
      `      { user: preprocess, password: pre-secret, permissions: { publish: [${['"kzr.pages.>"', ...jetStreamPublish].join(', ')}], subscribe: [${jetStreamSubscribe.join(', ')}] } }`,
      `      { user: trainer, password: train-secret, permissions: { publish: [${['"kzr.>"', ...jetStreamPublish].join(', ')}], subscribe: [${jetStreamSubscribe.join(', ')}] } }`,
      '    ]',
      '  }',
      '}',
    ],
  });
});
after(async () => {
  await server?.cleanup();
  await pki?.cleanup();
});

function pages(dataset: string): PagesIngested {
  return { meta: undefined, dataset, pageIds: [], labelsKey: '', unicodeTranslationKey: '', detectionKeys: [] };
}

describe('NATS Bus with TLS, accounts and permissions', () => {
  it('publishes and consumes on the subjects the user may use', async () => {
    const bus = await NatsBus.connect({
      servers: server.url,
      name: 'preprocess',
      auth: { kind: 'user', user: 'preprocess', password: 'pre-secret' },
      tls: { caFile: pki.caFile },
      logger: quiet,
    });
    try {
      const seen: string[] = [];
      await bus.consume({ durable: 'secure-pages', filterSubject: 'kzr.pages.ingested' }, async (m) => {
        seen.push(m.event.dataset);
      });
      await bus.publish(EventSubject.PagesIngested, pages('books-1'), { id: 'secure-1' });
      await waitUntil(() => seen.length === 1, 10_000, 'the published event consumed');
      assert.deepEqual(seen, ['books-1']);
    } finally {
      await bus.close();
    }
  });

  it('refuses a publish to a subject outside the user permissions', async () => {
    const bus = await NatsBus.connect({
      servers: server.url,
      name: 'preprocess',
      auth: { kind: 'user', user: 'preprocess', password: 'pre-secret' },
      tls: { caFile: pki.caFile },
      publishTimeoutMs: 3000,
      logger: quiet,
    });
    try {
      await assert.rejects(
        bus.publish(
          EventSubject.ModelsPublished,
          ModelsPublished.fromPartial({ model: { modelSet: 'kuzushiji', version: 'v1' } }),
          { id: 'refused-1' },
        ),
        /permission/i,
      );
    } finally {
      await bus.close();
    }
  });

  it('refuses a connection without credentials, with a wrong password, and without TLS', async () => {
    await assert.rejects(NatsBus.connect({ servers: server.url, tls: { caFile: pki.caFile }, logger: quiet }), /auth/i);
    await assert.rejects(
      NatsBus.connect({
        servers: server.url,
        auth: { kind: 'user', user: 'trainer', password: 'guess' },
        tls: { caFile: pki.caFile },
        logger: quiet,
      }),
      /auth/i,
    );
    // A client that does not trust the test CA cannot finish the handshake.
    await assert.rejects(
      NatsBus.connect({ servers: server.url, auth: { kind: 'user', user: 'trainer', password: 'train-secret' } }),
    );
  });

  it('compiles the credentials and CA from the environment, one kind of credentials at a time', () => {
    const config = compileAdapterConfig(
      { KZR_NATS_URL: server.url, KZR_NATS_USER: 'trainer', KZR_NATS_PASSWORD: 'x', KZR_NATS_CA_FILE: pki.caFile },
      '/tmp/unused',
    );
    assert.equal(config.bus.kind, 'nats');
    assert.deepEqual(config.bus.kind === 'nats' && config.bus.auth, { kind: 'user', user: 'trainer', password: 'x' });
    assert.deepEqual(config.bus.kind === 'nats' && config.bus.tls, { caFile: pki.caFile });
    assert.throws(
      () => compileAdapterConfig({ KZR_NATS_URL: server.url, KZR_NATS_TOKEN: 't', KZR_NATS_USER: 'u' }, '/tmp/unused'),
      (err: unknown) => err instanceof ConfigError && err.variable === 'KZR_NATS_TOKEN',
    );
    assert.throws(
      () =>
        compileAdapterConfig({ KZR_NATS_URL: server.url, KZR_NATS_CREDS_FILE: '/nonexistent.creds' }, '/tmp/unused'),
      (err: unknown) => err instanceof ConfigError && err.variable === 'KZR_NATS_CREDS_FILE',
    );
  });
});
