/**
 * The process's started telemetry, if any, kept under a global symbol so that code which must
 * not load the SDK (the main entry, service mains) can still flush it at exit.
 */

const key = Symbol.for('kzr.telemetry');

/** What is kept: something that flushes and stops. */
export interface TelemetryHandle {
  shutdown(): Promise<void>;
}

/** Remembers the started telemetry. */
export function setProcessTelemetry(handle: TelemetryHandle | undefined): void {
  (globalThis as Record<symbol, unknown>)[key] = handle;
}

/** Flushes and stops the telemetry started in this process (no-op when none). Never throws. */
export async function shutdownTelemetry(): Promise<void> {
  const handle = (globalThis as Record<symbol, unknown>)[key] as TelemetryHandle | undefined;
  await handle?.shutdown().catch(() => undefined);
}
