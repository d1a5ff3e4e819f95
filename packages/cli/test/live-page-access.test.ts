/**
 * Who the live page lets in (`src/web/`): its address (loopback unless auth is configured or
 * `KZR_INSECURE=1`), and with `KZR_AUTH_TOKENS_FILE` the role each action needs: none refused
 * with 401, `read` may list but not retrain (403), `train` may retrain but not promote (admin),
 * the token taken from the header or the page's cookie; retraining names a stored dataset. A real server on a free port over a
 * filesystem Store and an in-process Bus.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { datasetLabelsKey } from '@kzr/artifacts';
import { createLogger, FsStore, hashToken, MemoryBus, plaintextClient } from '@kzr/platform';

import { compileLivePageConfig, defaultLivePagePort } from '../src/web/config.js';
import { startLivePage } from '../src/web/server.js';

describe('live page address', () => {
  it('binds 127.0.0.1:8470 by default, any free port with 0, none with off', () => {
    assert.deepEqual(compileLivePageConfig({}), { host: '127.0.0.1', port: defaultLivePagePort });
    assert.deepEqual(compileLivePageConfig({ KZR_HTTP_PORT: '0' }), { host: '127.0.0.1', port: 0 });
    assert.equal(compileLivePageConfig({ KZR_HTTP_PORT: 'off' }), undefined);
    assert.throws(() => compileLivePageConfig({ KZR_HTTP_PORT: '70000' }), /KZR_HTTP_PORT/);
  });

  it('refuses another interface than loopback without auth, unless KZR_INSECURE=1', () => {
    assert.throws(() => compileLivePageConfig({ KZR_HTTP_HOST: '0.0.0.0' }), /KZR_HTTP_HOST.*loopback/);
    assert.equal(compileLivePageConfig({ KZR_HTTP_HOST: '0.0.0.0', KZR_INSECURE: '1' })?.host, '0.0.0.0');
    assert.equal(compileLivePageConfig({ KZR_HTTP_HOST: '0.0.0.0', KZR_AUTH_TOKENS_FILE: '/x' })?.host, '0.0.0.0');
  });
});

describe('live page with auth', () => {
  it('needs the train role to retrain and admin to promote, by bearer token or cookie', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kzr-live-access-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const tokensFile = join(dir, 'access.json');
    await writeFile(
      tokensFile,
      JSON.stringify({
        tokens: [
          { name: 'reader', sha256: hashToken('read-token'), role: 'read' },
          { name: 'trainer', sha256: hashToken('train-token'), role: 'train' },
        ],
      }),
    );
    const logger = createLogger({ write: () => {} });
    const store = new FsStore({ root: join(dir, 'store') });
    // A stored dataset to retrain on (its labels are what marks it ingested).
    await store.put(datasetLabelsKey('books'), Buffer.from('image_id,labels\n'));
    const bus = new MemoryBus({ source: 'test', logger });
    t.after(() => bus.close());
    await using page = await startLivePage({
      config: { host: '127.0.0.1', port: 0 },
      store,
      bus,
      inference: '127.0.0.1:1',
      grpcClient: plaintextClient,
      authTokensFile: tokensFile,
      logDir: join(dir, 'jobs'),
      logger,
    });
    const call = async (path: string, headers: Record<string, string>, body?: unknown) => {
      const res = await fetch(new URL(path, page.url), {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const retrain = { dataset: 'books', preset: 'smoke' };

    // The page's own files need nothing; its config says auth is on.
    assert.deepEqual((await call('/api/config', {})).body, { auth: true });
    const none = await call('/api/retrain', {}, retrain);
    assert.equal(none.status, 401, JSON.stringify(none.body));
    assert.equal((await call('/api/models', bearer('wrong'))).status, 401);
    assert.equal((await call('/api/models', bearer('read-token'))).status, 200);
    const read = await call('/api/retrain', bearer('read-token'), retrain);
    assert.equal(read.status, 403);
    assert.match(String(read.body['error']), /authorization: .*needs the train role; reader has read/);
    const trained = await call('/api/retrain', bearer('train-token'), retrain);
    assert.equal(trained.status, 202, JSON.stringify(trained.body));
    assert.match(String(trained.body['run']), /^r-/);
    const missing = await call('/api/retrain', bearer('train-token'), { dataset: 'elsewhere', preset: 'smoke' });
    assert.equal(missing.status, 400);
    assert.match(String(missing.body['error']), /^dataset: no dataset "elsewhere" in the Store/);
    // The cookie the page sets works as the header does.
    const cookie = await call('/api/retrain', { cookie: 'kzr_token=train-token' }, retrain);
    assert.equal(cookie.status, 202, JSON.stringify(cookie.body));
    const promote = await call('/api/models/promote', bearer('train-token'), { modelSet: 'm', version: 'v1' });
    assert.equal(promote.status, 403);
    assert.match(String(promote.body['error']), /needs the admin role/);
    // A second page on the same port says which variable to change.
    const port = Number(new URL(page.url).port);
    await assert.rejects(
      startLivePage({
        config: { host: '127.0.0.1', port },
        store,
        bus,
        inference: '127.0.0.1:1',
        grpcClient: plaintextClient,
        authTokensFile: undefined,
        logDir: undefined,
        logger,
      }),
      /KZR_HTTP_PORT=.*a free port/,
    );
  });
});
