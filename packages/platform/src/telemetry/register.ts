/**
 * Registers the OpenTelemetry ESM loader hook. Import this (with `node --import`, or a dynamic
 * `import()` before anything else) in a process that should get gRPC spans: under native ESM
 * the gRPC instrumentation sees nothing unless `@grpc/grpc-js` is loaded through this hook, so it
 * must run before `@grpc/grpc-js` is imported. Only `@grpc/grpc-js` is hooked, and only when the
 * process has telemetry to export (`telemetryEnabled`): the hook slows every later import.
 */
import { register } from 'node:module';

import { compileTelemetryConfig, telemetryEnabled } from './config.js';

if (telemetryEnabled(compileTelemetryConfig(process.env))) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['@grpc/grpc-js'] } });
}
