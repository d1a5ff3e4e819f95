import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { firstJsonLine, freePort, NatsServer, waitForExit } from '@kzr/testkit';

interface SpanLine {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  scope: string;
  attributes: Record<string, unknown>;
}

const fixture = fileURLToPath(new URL('./fixtures/trace-app.ts', import.meta.url));
const SpanKind = { SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 } as const;

async function runFixture(env: Record<string, string>, hook = true): Promise<Record<string, SpanLine[]>> {
  // An OTLP endpoint where nothing listens: export fails, and the request must not notice.
  const deadPort = await freePort();
  const loader = hook ? ['--import', '@kzr/platform/telemetry/register'] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...loader, fixture], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: {
      ...process.env,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${deadPort}/v1/traces`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const line = (await firstJsonLine(child, 45_000)) as { spans: Record<string, SpanLine[]> };
    const exit = await waitForExit(child, 15_000);
    assert.equal(exit.code, 0, stderr);
    return line.spans;
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`trace fixture failed: ${String(err)}\n${stderr}`);
  }
}

function assertChain(spans: SpanLine[], system: string): void {
  const client = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === 'grpc.kzr.test.Trace/Ingest');
  const server = spans.find((s) => s.kind === SpanKind.SERVER && s.name === 'grpc.kzr.test.Trace/Ingest');
  const publish = spans.find((s) => s.kind === SpanKind.PRODUCER && s.name === 'publish kzr.pages.ingested');
  const consume = spans.find((s) => s.kind === SpanKind.CONSUMER && s.name === 'process kzr.pages.ingested');
  assert.ok(
    client && server && publish && consume,
    `spans: ${JSON.stringify(spans.map((s) => [s.name, s.kind, s.scope]))}`,
  );
  // Made by the instrumentation and the adapter, not by hand.
  assert.match(client.scope, /instrumentation-grpc/);
  assert.match(server.scope, /instrumentation-grpc/);
  assert.equal(publish.scope, '@kzr/platform/bus');
  assert.equal(consume.scope, '@kzr/platform/bus');
  // One trace, parent chain client -> server -> publish -> consume.
  assert.equal(new Set([client, server, publish, consume].map((s) => s.traceId)).size, 1);
  assert.equal(client.parentSpanId, undefined);
  assert.equal(server.parentSpanId, client.spanId);
  assert.equal(publish.parentSpanId, server.spanId);
  assert.equal(consume.parentSpanId, publish.spanId);
  // Messaging semantic conventions on the Bus spans.
  assert.equal(publish.attributes['messaging.system'], system);
  assert.equal(publish.attributes['messaging.destination.name'], 'kzr.pages.ingested');
  assert.equal(publish.attributes['messaging.operation.type'], 'send');
  assert.equal(consume.attributes['messaging.operation.type'], 'process');
  assert.equal(consume.attributes['messaging.consumer.group.name'], 'trace');
  assert.equal(consume.attributes['messaging.message.id'], 'trace-traced');
  assert.equal(server.attributes['rpc.system'], 'grpc');
}

describe('telemetry across gRPC and the Bus', () => {
  let nats: NatsServer;
  let spans: Record<string, SpanLine[]>;
  before(async () => {
    nats = await NatsServer.start();
    // One child process goes through both Buses (each start of it costs seconds).
    spans = await runFixture({ KZR_TRACE_BUSES: 'memory,nats', KZR_TRACE_NATS_URL: nats.url });
  });
  after(async () => {
    await nats?.cleanup();
  });

  it('gives one trace client -> server -> publish -> consume over the in-process Bus', () => {
    assertChain(spans['memory']!, 'kzr.memory');
  });

  it('gives one trace client -> server -> publish -> consume over NATS, context in the headers', () => {
    assertChain(spans['nats']!, 'nats');
  });

  it('gets no gRPC spans without the ESM loader hook (why instrumentation.ts registers it first)', async () => {
    const without = (await runFixture({ KZR_TRACE_BUSES: 'memory' }, false))['memory']!;
    assert.equal(without.filter((s) => /instrumentation-grpc/.test(s.scope)).length, 0);
    assert.equal(
      without.filter((s) => s.scope === '@kzr/platform/bus').length,
      2,
      'the Bus spans do not need the hook',
    );
  });
});
