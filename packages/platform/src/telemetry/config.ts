/**
 * Telemetry settings from the environment, apart from the SDK, so that a process with nothing to
 * export decides so without loading OpenTelemetry's SDK (about half of a service's cold start).
 */
import { type Env, readChoice, readInt, readString } from '../env.js';

/** Where spans go (`OTEL_TRACES_EXPORTER`). */
export const TracesExporter = { Otlp: 'otlp', Console: 'console', None: 'none' } as const;
export type TracesExporter = (typeof TracesExporter)[keyof typeof TracesExporter];

/** Telemetry settings compiled from the environment. */
export interface TelemetryConfig {
  /**
   * Span exporter (`OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none`). OTLP takes its endpoint,
   * headers and timeout from the standard `OTEL_EXPORTER_OTLP_*` variables.
   * @default 'otlp' when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, else 'none'
   */
  readonly tracesExporter: TracesExporter;
  /**
   * Port of the Prometheus scrape endpoint `/metrics` (`KZR_METRICS_PORT`); unset = no endpoint,
   * 0 = any free port.
   */
  readonly metricsPort: number | undefined;
  /**
   * Interface the metrics endpoint binds (`KZR_METRICS_HOST`).
   * @default '127.0.0.1'
   */
  readonly metricsHost: string;
  /** Set to disable everything (`OTEL_SDK_DISABLED=true`). @default false */
  readonly disabled: boolean;
}

/** Compiles the {@link TelemetryConfig}; throws a ConfigError naming a bad variable. */
export function compileTelemetryConfig(env: Env): TelemetryConfig {
  const otlpEndpoint =
    readString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // OTEL_TRACES_EXPORTER may be a list; kzr uses its first entry.
  const first = readString(env, 'OTEL_TRACES_EXPORTER')?.split(',')[0]?.trim();
  const tracesExporter =
    readChoice({ OTEL_TRACES_EXPORTER: first }, 'OTEL_TRACES_EXPORTER', Object.values(TracesExporter)) ??
    (otlpEndpoint ? TracesExporter.Otlp : TracesExporter.None);
  return Object.freeze({
    tracesExporter,
    metricsPort: readInt(env, 'KZR_METRICS_PORT', 0, 65_535),
    metricsHost: readString(env, 'KZR_METRICS_HOST') ?? '127.0.0.1',
    disabled: readString(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true',
  });
}

/**
 * True when the process has something to export: spans (`OTEL_TRACES_EXPORTER`, an OTLP
 * endpoint) or metrics (`KZR_METRICS_PORT`), and `OTEL_SDK_DISABLED` is not set.
 */
export function telemetryEnabled(config: TelemetryConfig): boolean {
  return !config.disabled && (config.tracesExporter !== TracesExporter.None || config.metricsPort !== undefined);
}
