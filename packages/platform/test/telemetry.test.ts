import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';

import { waitUntil } from './contracts/wait.js';

import { ConfigError, EventSubject, MemoryBus, ValidationError } from '@kzr/platform';
import { compileTelemetryConfig, startTelemetry } from '@kzr/platform/telemetry';

describe('telemetry config', () => {
  it('reads the standard OTEL variables and KZR_METRICS_PORT, and names a bad one', () => {
    assert.deepEqual(
      { ...compileTelemetryConfig({}) },
      { tracesExporter: 'none', metricsPort: undefined, metricsHost: '127.0.0.1', disabled: false },
    );
    assert.equal(
      compileTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracesExporter,
      'otlp',
    );
    assert.equal(
      compileTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })
        .tracesExporter,
      'none',
    );
    assert.equal(compileTelemetryConfig({ OTEL_TRACES_EXPORTER: 'console,otlp' }).tracesExporter, 'console');
    assert.equal(compileTelemetryConfig({ KZR_METRICS_PORT: '9464', KZR_METRICS_HOST: '0.0.0.0' }).metricsPort, 9464);
    assert.throws(
      () => compileTelemetryConfig({ OTEL_TRACES_EXPORTER: 'jaeger' }),
      (err) => err instanceof ConfigError && err.variable === 'OTEL_TRACES_EXPORTER',
    );
    assert.throws(
      () => compileTelemetryConfig({ KZR_METRICS_PORT: 'ninety' }),
      (err) => err instanceof ConfigError && err.variable === 'KZR_METRICS_PORT',
    );
  });
});

describe('telemetry export', () => {
  it('exports Bus spans over OTLP/HTTP as the OTEL variables say and serves Bus metrics on /metrics', async () => {
    // Arrange: a collector that records what it gets.
    const received: Array<{ url: string; type: string; body: string }> = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '', type: req.headers['content-type'] ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const port = (collector.address() as AddressInfo).port;
    process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] = `http://127.0.0.1:${port}/v1/traces`;
    const telemetry = await startTelemetry({
      serviceName: 'kzr-telemetry-test',
      env: { ...process.env, KZR_METRICS_PORT: '0', KZR_LOG_LEVEL: 'warn' },
    });
    try {
      assert.match(telemetry.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

      // Act: publish three events; one handler fails for good.
      await using bus = new MemoryBus({ source: 'telemetry-test' });
      let handled = 0;
      await bus.consume({ durable: 'metrics', filterSubject: 'kzr.pages.ingested' }, async (m) => {
        handled++;
        if (m.id === 'm-2') throw new ValidationError('dataset', 'unknown');
      });
      for (let i = 1; i <= 3; i++) {
        await bus.publish(
          EventSubject.PagesIngested,
          {
            meta: undefined,
            dataset: `d${i}`,
            pageIds: [],
            labelsKey: '',
            unicodeTranslationKey: '',
            detectionKeys: [],
          },
          { id: `m-${i}` },
        );
      }
      await waitUntil(() => handled === 3, 5000, 'three deliveries');

      // Assert: metrics on the scrape endpoint.
      const text = await (await fetch(telemetry.metricsUrl!)).text();
      const line = (name: string, ...parts: string[]): number => {
        const found = text.split('\n').find((l) => l.startsWith(name) && parts.every((p) => l.includes(p)));
        assert.ok(found, `${name} ${parts.join(' ')} in\n${text}`);
        return Number(found.split(' ').at(-1));
      };
      assert.equal(line('kzr_bus_messages_published_total', 'messaging_destination_name="kzr.pages.ingested"'), 3);
      assert.equal(
        line('kzr_bus_messages_processed_total', 'outcome="ack"', 'messaging_consumer_group_name="metrics"'),
        2,
      );
      assert.equal(line('kzr_bus_messages_processed_total', 'outcome="dead_letter"'), 1);
      assert.ok(line('kzr_bus_process_duration_count', 'outcome="ack"') >= 2);
    } finally {
      await telemetry.shutdown();
      collector.close();
    }
    // Assert: spans reached the collector over OTLP/HTTP (JSON), with the service name.
    const traces = received.filter((r) => r.url === '/v1/traces');
    assert.ok(traces.length >= 1, 'the collector got spans');
    const body = traces.map((t) => t.body).join('\n');
    assert.match(traces[0]!.type, /application\/json/);
    assert.match(body, /kzr-telemetry-test/);
    assert.match(body, /publish kzr\.pages\.ingested/);
    assert.match(body, /process kzr\.pages\.ingested/);
  });
});
