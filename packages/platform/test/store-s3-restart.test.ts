/**
 * The S3 Store waits out a restart of its server (issue 23, faults under load): calls sent while
 * the server is down are sent again with backoff until it is back, connecting too; a server that
 * stays down fails the call once `retryTimeoutMs` has passed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, S3Server } from '@kzr/testkit';

import { S3Store } from '@kzr/platform';

async function connect(port: number, retryTimeoutMs: number): Promise<S3Store> {
  return S3Store.connect({
    endpoint: `http://127.0.0.1:${port}`,
    accessKey: S3Server.accessKey,
    secretKey: S3Server.secretKey,
    bucket: 'kzr',
    retryTimeoutMs,
  });
}

describe('the S3 Store across a restart of its server', () => {
  it('connects, puts, gets, stats and lists once the server is back', async (t) => {
    const directory = await mkdtemp(join(tmpdir(), 'kzr-s3-restart-'));
    t.after(() => rm(directory, { recursive: true, force: true }));
    const port = await freePort();
    // Connecting while no server listens waits for one.
    const connecting = connect(port, 20_000);
    await sleep(300);
    let server = await S3Server.start({ port, directory });
    const store = await connecting;
    t.after(() => store.close());
    await store.put('runs/a', Buffer.from('before'));

    await server.stop();
    const calls = Promise.all([
      store.put('runs/b', Buffer.from('during')),
      store.getBytes('runs/a'),
      store.stat('runs/a'),
    ]);
    await sleep(500);
    server = await S3Server.start({ port, directory });
    t.after(() => server.cleanup());
    const [put, got, info] = await calls;
    assert.equal(put.size, 6);
    assert.equal(got.toString(), 'before');
    assert.equal(info.size, 6);
    assert.deepEqual(
      (await store.list('runs/')).map((i) => i.key),
      ['runs/a', 'runs/b'],
    );
  });

  it('fails a call once the server has stayed down for retryTimeoutMs', async (t) => {
    const server = await S3Server.start();
    const store = await connect(server.port, 600);
    t.after(() => store.close());
    await server.cleanup();
    const started = Date.now();
    await assert.rejects(store.stat('runs/a'), (err: Error & { code?: string }) => err.code === 'ECONNREFUSED');
    // Sent again after 100 and 200 ms; the next pause would pass the 600 ms.
    const ms = Date.now() - started;
    assert.ok(ms >= 280 && ms < 2000, `gave up after ${ms} ms`);
  });
});
