/**
 * OpenTelemetry bootstrap of the trainer service, loaded before the service itself:
 * `node --import tsx --import ./services/trainer/src/instrumentation.ts services/trainer/src/main.ts`.
 * It registers the ESM loader hook first (without it the gRPC instrumentation sees nothing),
 * then starts the SDK: `service.name` kzr-trainer, spans as the standard OTEL_* variables say,
 * metrics on /metrics when KZR_METRICS_PORT is set. The service's main flushes it at exit.
 * Telemetry failures are logged, never fatal.
 */
await import('@kzr/platform/telemetry/register');
const { startTelemetry } = await import('@kzr/platform/telemetry');
const telemetry = await startTelemetry({ serviceName: 'kzr-trainer' });
// A process that ends without the service main (a crash at start) still flushes.
process.once('beforeExit', () => void telemetry.shutdown());

export {};
