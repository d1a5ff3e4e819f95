/**
 * The telemetry bootstrap of a kzr process: an OpenTelemetry NodeSDK with the `service.name`
 * resource, the gRPC instrumentation, spans exported as the standard `OTEL_*` variables say
 * (OTLP over HTTP in the cluster; nothing by default), and metrics on a Prometheus scrape
 * endpoint when `KZR_METRICS_PORT` is set. Bus spans and metrics come from the Bus adapter
 * itself. Telemetry failures are logged and never thrown into a request.
 *
 * Load it through `src/instrumentation.ts` (after the loader hook of `./register.js`) before the
 * application imports `@grpc/grpc-js`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { diag, DiagLogLevel } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

import { LogLevel } from '../config.js';
import { type Env, readChoice } from '../env.js';
import { createLogger, type Logger } from '../logger.js';
import { compileTelemetryConfig, TracesExporter } from './config.js';
import { setProcessTelemetry } from './global.js';

/** Options of {@link startTelemetrySdk} (and of the `startTelemetry` that loads it). */
export interface TelemetryOptions {
  /** `service.name` of every span and metric. */
  readonly serviceName: string;
  /** Where `KZR_*` and `OTEL_TRACES_EXPORTER` are read from. @default process.env */
  readonly env?: Env;
  /** An extra exporter fed synchronously (tests: an InMemorySpanExporter). */
  readonly spanExporter?: SpanExporter;
  readonly logger?: Logger;
}

/** Started telemetry. */
export interface Telemetry extends AsyncDisposable {
  /** `http://host:port/metrics`, when the endpoint is enabled. */
  readonly metricsUrl: string | undefined;
  /** Exports what is buffered. */
  forceFlush(): Promise<void>;
  /** Flushes and stops; never throws (failures are logged). Idempotent. */
  shutdown(): Promise<void>;
}

/** Starts the SDK; call before `@grpc/grpc-js` is imported. */
export async function startTelemetrySdk(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  const config = compileTelemetryConfig(env);
  const logger = (
    options.logger ??
    createLogger({ level: readChoice(env, 'KZR_LOG_LEVEL', Object.values(LogLevel)) ?? LogLevel.Info })
  ).child({ component: 'telemetry', service: options.serviceName });
  diag.setLogger(
    {
      error: (message, ...args) => logger.warn(`otel: ${message}`, { args }),
      warn: (message, ...args) => logger.warn(`otel: ${message}`, { args }),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  setGlobalErrorHandler((err) => logger.warn('telemetry error (ignored)', { err }));

  const spanProcessors: SpanProcessor[] = [];
  if (options.spanExporter) spanProcessors.push(new SimpleSpanProcessor(options.spanExporter));
  if (config.tracesExporter === TracesExporter.Otlp)
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  if (config.tracesExporter === TracesExporter.Console)
    spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));

  let prometheus: PrometheusExporter | undefined;
  let server: Server | undefined;
  let metricsUrl: string | undefined;
  if (config.metricsPort !== undefined && !config.disabled) {
    prometheus = new PrometheusExporter({ preventServerStart: true });
    const exporter = prometheus;
    const metricsServer = createServer((req, res) => {
      if (req.url?.split('?')[0] === '/metrics') exporter.getMetricsRequestHandler(req, res);
      else res.writeHead(404).end();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        metricsServer.once('error', reject);
        metricsServer.listen(config.metricsPort, config.metricsHost, resolve);
      });
      server = metricsServer;
      // Scrapes must not keep a finished process alive.
      server.unref();
      const { port } = server.address() as AddressInfo;
      metricsUrl = `http://${config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost}:${port}/metrics`;
      logger.info('metrics endpoint', { url: metricsUrl });
    } catch (err) {
      logger.warn('metrics endpoint not started', { port: config.metricsPort, err });
    }
  }

  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors,
    metricReaders: prometheus ? [prometheus] : [],
    instrumentations: [new GrpcInstrumentation()],
  });
  if (!config.disabled) {
    try {
      sdk.start();
    } catch (err) {
      logger.warn('telemetry not started', { err });
    }
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await sdk.shutdown();
      } catch (err) {
        logger.warn('telemetry shutdown failed', { err });
      }
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    })();
    return stopping;
  };
  const telemetry: Telemetry = {
    metricsUrl,
    forceFlush: async () => {
      await Promise.all(
        spanProcessors.map((p) => p.forceFlush().catch((err: unknown) => logger.warn('flush failed', { err }))),
      );
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
  setProcessTelemetry(telemetry);
  return telemetry;
}
