// The `@kzr/platform/telemetry` entry: separate from the main one so that loading it never
// loads `@grpc/grpc-js` (the gRPC instrumentation must be set up before that happens).
export { compileTelemetryConfig, startTelemetry, TracesExporter } from './start.js';

export type { Telemetry, TelemetryConfig, TelemetryOptions } from './start.js';
