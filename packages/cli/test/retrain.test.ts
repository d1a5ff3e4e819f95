/**
 * `kzr retrain` against a real nats-server: the request arrives on the stream with the dataset
 * and the preset or the whole spec, on the Bus `KZR_NATS_URL` names or the machine's Bus of
 * `kzr start`; the same request id twice is one request; without a Bus a trainer hears it exits
 * 1 naming what is missing.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { TrainingRequested } from '@kzr/api/kzr/v1/events';
import { parseRunSpec } from '@kzr/pipeline';
import { createLogger, EventSubject, freePort, machineBusFile, NatsBus, type Subscription } from '@kzr/platform';
import { NatsServer } from '@kzr/testkit';

import { repoRoot, runKzr, tempDir } from './kzr-cli.js';

/** The requests a durable consumer receives, in order, until `until` says it has them all. */
class Requests {
  readonly seen: Array<{ id: string; event: TrainingRequested }> = [];
  #wake: () => void = () => {};

  handle = async (message: { id: string; event: TrainingRequested }): Promise<void> => {
    this.seen.push({ id: message.id, event: message.event });
    this.#wake();
  };

  async until(id: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.seen.some((r) => r.id === id)) {
      if (Date.now() > deadline) throw new Error(`request ${id} did not arrive`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }
}

function lastLine(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('kzr retrain', () => {
  let nats: NatsServer;
  let bus: NatsBus;
  let subscription: Subscription;
  const requests = new Requests();
  before(async () => {
    nats = await NatsServer.start();
    bus = await NatsBus.connect({
      servers: nats.url,
      name: 'trainer-stand-in',
      logger: createLogger({ level: 'error' }),
    });
    subscription = await bus.consume(
      { durable: 'trainer', filterSubject: EventSubject.TrainingRequested },
      requests.handle,
    );
  });
  after(async () => {
    await subscription?.stop();
    await bus?.close();
    await nats?.cleanup();
  });

  it('publishes the request with the dataset and preset on KZR_NATS_URL; the same request id again is one request', async (t) => {
    const env = { KZR_NATS_URL: nats.url, KZR_DATA_DIR: await tempDir(t) };
    const first = await runKzr(
      ['retrain', '--dataset', 'books-a', '--preset', 'smoke', '--request-id', 'nightly-1'],
      env,
    );
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(lastLine(first.stdout), {
      type: 'requested',
      requestId: 'nightly-1',
      run: 'nightly-1',
      dataset: 'books-a',
      preset: 'smoke',
      duplicate: false,
      bus: nats.url,
    });
    const again = await runKzr(
      ['retrain', '--dataset', 'books-a', '--preset', 'smoke', '--request-id', 'nightly-1'],
      env,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(lastLine(again.stdout)['duplicate'], true);
    // A request without an id gets a run name of its own; it arrives after the first, and the
    // duplicate did not arrive between them.
    const other = await runKzr(['retrain', '--dataset', 'books-b'], env);
    assert.equal(other.code, 0, other.stderr);
    const otherId = lastLine(other.stdout)['requestId'] as string;
    assert.match(otherId, /^r-\d{8}-\d{6}-[0-9a-f]{4}$/);
    await requests.until(otherId);
    const [a, b] = requests.seen.filter((r) => r.id === 'nightly-1' || r.id === otherId);
    assert.equal(requests.seen.filter((r) => r.id === 'nightly-1').length, 1);
    assert.equal(a?.id, 'nightly-1');
    assert.equal(a?.event.runId, 'nightly-1');
    assert.equal(a?.event.spec?.dataset, 'books-a');
    assert.equal(a?.event.preset, 'smoke');
    assert.equal(a?.event.specJson, '');
    assert.equal(b?.event.spec?.dataset, 'books-b');
    assert.equal(b?.event.preset, 'default');
  });

  it("sends a spec file whole, model configurations inline, on the machine's Bus of `kzr start`", async (t) => {
    const dataDir = await tempDir(t);
    // What `kzr start` writes while its nats-server lives (this test process stands for it).
    await writeFile(machineBusFile(dataDir), JSON.stringify({ url: nats.url, pid: process.pid }));
    const spec = join(repoRoot, 'configs', 'runs', 'smoke.json');
    const res = await runKzr(['retrain', '--dataset', 'books-c', '--spec', spec, '--request-id', 'from-spec'], {
      KZR_DATA_DIR: dataDir,
    });
    assert.equal(res.code, 0, res.stderr);
    await requests.until('from-spec');
    const { event } = requests.seen.find((r) => r.id === 'from-spec')!;
    assert.equal(event.preset, '');
    const sent = parseRunSpec(event.specJson);
    assert.equal(sent.preset, 'smoke');
    assert.equal(sent.models.length, 2);
    for (const model of sent.models) assert.equal(typeof model.config?.['model'], 'object', model.name);
    assert.equal(event.spec?.dataset, 'books-c');
  });

  it('exits 1 naming what is missing when no Bus a trainer hears is there, and publishes nothing', async (t) => {
    const dataDir = await tempDir(t);
    const unreachable = `nats://127.0.0.1:${await freePort()}`;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ KZR_DATA_DIR: dataDir }, /^kzr: bus: .*KZR_NATS_URL is not set and no `kzr start` runs a Bus for .*bus\.json/],
      [{ KZR_DATA_DIR: dataDir, KZR_BUS: 'memory', KZR_NATS_URL: nats.url }, /^kzr: bus: .*KZR_BUS=memory/],
      [{ KZR_DATA_DIR: dataDir, KZR_NATS_URL: unreachable }, new RegExp(`^kzr: bus: cannot connect to ${unreachable}`)],
    ];
    for (const [env, expected] of cases) {
      const res = await runKzr(['retrain', '--dataset', 'books-d', '--request-id', 'nowhere'], {
        KZR_NATS_URL: '',
        KZR_BUS: '',
        ...env,
      });
      assert.equal(res.code, 1, res.stderr);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.match(res.stderr, expected);
    }
    // A stale bus.json (its server gone) is no Bus either.
    await writeFile(machineBusFile(dataDir), JSON.stringify({ url: unreachable, pid: 2 ** 22 + 1 }));
    const stale = await runKzr(['retrain', '--dataset', 'books-d'], { KZR_DATA_DIR: dataDir, KZR_NATS_URL: '' });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /^kzr: bus: .*KZR_NATS_URL is not set/);
    // Bad input is exit 2 before any Bus is looked for.
    for (const args of [
      ['--preset', 'smoke'],
      ['--dataset', 'a/b'],
      ['--dataset', 'd', '--request-id', 'x'.repeat(64)],
      ['--dataset', 'd', '--preset', 'nope'],
      ['--dataset', 'd', '--preset', 'smoke', '--spec', 'x.json'],
    ]) {
      const res = await runKzr(['retrain', ...args], { KZR_DATA_DIR: dataDir, KZR_NATS_URL: nats.url });
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /^kzr: --(dataset|request-id|preset|spec): /);
    }
    assert.ok(!requests.seen.some((r) => r.id === 'nowhere'));
  });
});
