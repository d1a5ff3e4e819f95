// The `@kzr/platform/telemetry` entry: separate from the main one so that loading it never
// loads `@grpc/grpc-js` (the gRPC instrumentation must be set up before that happens).
import { compileTelemetryConfig, telemetryEnabled } from './config.js';
import type { Telemetry, TelemetryOptions } from './start.js';

export { compileTelemetryConfig, telemetryEnabled, TracesExporter } from './config.js';

export type { TelemetryConfig } from './config.js';
export type { Telemetry, TelemetryOptions } from './start.js';

/**
 * Starts the process's telemetry (see `start.ts`). A process with nothing to export (no span
 * exporter, no `KZR_METRICS_PORT`) loads no SDK and gets a telemetry that does nothing: the
 * OpenTelemetry API stays a no-op, and the service reaches SERVING without paying for the SDK.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  if (!options.spanExporter && !telemetryEnabled(compileTelemetryConfig(options.env ?? process.env))) {
    const idle = async (): Promise<void> => {};
    return { metricsUrl: undefined, forceFlush: idle, shutdown: idle, [Symbol.asyncDispose]: idle };
  }
  return (await import('./start.js')).startTelemetrySdk(options);
}
