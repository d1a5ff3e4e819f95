import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';

import { KubernetesApiStandIn, NatsServer, S3Server } from '@kzr/testkit';

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function http(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, text: await response.text(), headers: Object.fromEntries(response.headers) };
}

describe('NatsServer', () => {
  it('listens on loopback, keeps its port across a restart, and removes its store on dispose', async () => {
    let dir = '';
    {
      await using server = await NatsServer.start({ maxMemoryStore: '8MB', maxFileStore: '32MB' });
      dir = server.dir;
      assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(await reachable(server.port));
      const port = server.port;
      await server.stop();
      assert.equal(await reachable(port), false);
      await server.start();
      assert.equal(server.port, port);
      assert.ok(await reachable(port));
      assert.ok(existsSync(dir));
    }
    assert.equal(existsSync(dir), false, 'store removed');
  });
});

describe('S3Server', () => {
  it('answers the multipart listing and abort that s3rver lacks', async () => {
    await using s3 = await S3Server.start({ buckets: ['shim'] });
    const listing = await http(`${s3.endpoint}/shim?uploads`, 'GET');
    assert.equal(listing.status, 200);
    assert.match(listing.text, /<ListMultipartUploadsResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
    assert.match(listing.text, /<Bucket>shim<\/Bucket>.*<IsTruncated>false<\/IsTruncated>/);
    // Everything else still reaches s3rver.
    assert.equal((await http(`${s3.endpoint}/shim/missing-key`, 'GET')).status, 404);
    assert.equal((await http(`${s3.endpoint}/shim/some/key?uploadId=abc123`, 'DELETE')).status, 204);
    assert.deepEqual(await s3.openUploads('shim'), []);
  });
});

describe('KubernetesApiStandIn', () => {
  const job = (name: string, script: string): unknown => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { app: 'test' } },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'c', image: 'x', command: [process.execPath, '-e', script] }],
        },
      },
    },
  });

  it('creates Jobs, answers 409 on a duplicate and 404 on a missing one, deletes, and lists by label', async () => {
    await using api = await KubernetesApiStandIn.start();
    const base = `${api.url}/apis/batch/v1/namespaces/ml/jobs`;
    const created = await http(base, 'POST', job('one', '0'));
    assert.equal(created.status, 201);
    const duplicate = await http(base, 'POST', job('one', '0'));
    assert.equal(duplicate.status, 409);
    assert.equal((JSON.parse(duplicate.text) as { reason: string }).reason, 'AlreadyExists');
    assert.equal((await http(`${base}/nope/status`, 'GET')).status, 404);
    assert.equal(
      (JSON.parse((await http(`${base}?labelSelector=app%3Dtest`, 'GET')).text) as { items: unknown[] }).items.length,
      1,
    );
    assert.equal(
      (JSON.parse((await http(`${base}?labelSelector=app%3Dother`, 'GET')).text) as { items: unknown[] }).items.length,
      0,
    );
    assert.equal((await http(`${base}/one`, 'DELETE')).status, 200);
    assert.equal((await http(`${base}/one`, 'GET')).status, 404);
  });

  it('streams watch events as the simulated controller runs a Job, and drops watches on demand', async () => {
    await using api = await KubernetesApiStandIn.start();
    const base = `${api.url}/apis/batch/v1/namespaces/ml/jobs`;
    const events: Array<{ type: string; object: { status?: { succeeded?: number; active?: number } } }> = [];
    const ended = new Promise<void>((resolve) => {
      const req = request(`${base}?watch=true`, (res) => {
        let buffer = '';
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
            events.push(JSON.parse(buffer.slice(0, i)) as (typeof events)[number]);
            buffer = buffer.slice(i + 1);
          }
        });
        res.on('close', () => resolve());
        res.on('error', () => resolve());
      });
      req.on('error', () => resolve());
      req.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await http(base, 'POST', job('watched', '0'));
    const deadline = Date.now() + 10_000;
    while (!events.some((e) => e.object.status?.succeeded === 1)) {
      assert.ok(Date.now() < deadline, `events so far: ${JSON.stringify(events.map((e) => e.type))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(events[0]!.type, 'ADDED');
    assert.ok(events.some((e) => e.type === 'MODIFIED' && e.object.status?.active === 1));
    api.dropWatches();
    await ended;
    assert.equal(api.watchRequests, 1);
  });

  it('names the running pods and kills one; with no retry left its Job fails', async () => {
    await using api = await KubernetesApiStandIn.start();
    const base = `${api.url}/apis/batch/v1/namespaces/ml/jobs`;
    await http(base, 'POST', job('long', 'setTimeout(() => {}, 60000)'));
    const deadline = Date.now() + 10_000;
    while (api.runningPods().length === 0) {
      assert.ok(Date.now() < deadline, 'the pod runs');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(api.runningPods(), ['long']);
    assert.equal(api.killPod('nope'), false);
    assert.equal(api.killPod('long'), true);
    for (;;) {
      const status = JSON.parse((await http(`${base}/long/status`, 'GET')).text) as {
        status?: { failed?: number; conditions?: Array<{ type: string }> };
      };
      if (status.status?.conditions?.some((c) => c.type === 'Failed')) {
        assert.equal(status.status.failed, 1);
        break;
      }
      assert.ok(Date.now() < deadline, 'the Job failed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(api.runningPods(), []);
  });
});
