/**
 * OpenTelemetry instruments made lazily on the current global meter provider. The API has no
 * proxy for meters (unlike tracers): instruments made before the telemetry bootstrap (or a
 * test) sets the provider would stay no-ops, so they are made again whenever it changes.
 */
import { type Meter, metrics } from '@opentelemetry/api';

/**
 * Returns a getter of the instruments `make` builds on the meter named `scope`, rebuilt when
 * the global meter provider changes. Call the getter on each recording, not once at start.
 */
export function meterInstruments<T>(scope: string, make: (meter: Meter) => T): () => T {
  let made: { provider: unknown; value: T } | undefined;
  return () => {
    const provider = metrics.getMeterProvider();
    if (made?.provider !== provider) made = { provider, value: make(provider.getMeter(scope)) };
    return made.value;
  };
}
