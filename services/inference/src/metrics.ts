/**
 * Request metrics of the inference service: latency and batch-size histograms, queue depth,
 * requests by status and by model-set version. Recorded twice: into OpenTelemetry instruments on
 * the global meter provider (which the platform telemetry exports, Prometheus `/metrics` with
 * `KZR_METRICS_PORT`; a no-op without it) and into in-memory fixed buckets that
 * {@link InferenceMetrics.snapshot} returns (benchmarks, tests, debugging).
 *
 * OpenTelemetry names: `kzr.inference.request.duration` (ms; method, status, model_set,
 * version), `kzr.inference.requests` (same attributes), `kzr.inference.batch.size` (views per
 * engine batch), `kzr.inference.queue.depth` (views waiting in the batchers).
 */
import { type Counter, type Histogram as OtelHistogram, type MeterProvider, metrics } from '@opentelemetry/api';

/** Latency bucket bounds, ms. */
export const latencyBucketsMs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] as const;
/** Batch-size bucket bounds, rows. */
export const batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] as const;

/** A histogram with fixed upper bounds (the last bucket is +Inf). */
export interface HistogramSnapshot {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

class Histogram {
  private readonly bounds: readonly number[];
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  record(value: number): void {
    let i = this.bounds.findIndex((b) => value <= b);
    if (i < 0) i = this.bounds.length;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: this.bounds, counts: [...this.counts], sum: this.sum, count: this.count };
  }
}

/** What {@link InferenceMetrics.snapshot} returns. */
export interface MetricsSnapshot {
  readonly latencyMs: Readonly<Record<string, HistogramSnapshot>>;
  readonly batchRows: HistogramSnapshot;
  /** `method status` → count. */
  readonly requestsByStatus: Readonly<Record<string, number>>;
  /** `set@version` → count. */
  readonly requestsByVersion: Readonly<Record<string, number>>;
  readonly queueDepth: number;
}

interface Instruments {
  readonly provider: MeterProvider;
  readonly duration: OtelHistogram;
  readonly requests: Counter;
  readonly batch: OtelHistogram;
}

/** The service's counters. */
export class InferenceMetrics {
  private otel: Instruments | undefined;
  private readonly latency = new Map<string, Histogram>();
  private readonly batches = new Histogram(batchBuckets);
  private readonly byStatus = new Map<string, number>();
  private readonly byVersion = new Map<string, number>();
  private depth: () => number = () => 0;

  /** Instruments on the current global meter provider (there is no proxy for meters). */
  private instruments(): Instruments {
    const provider = metrics.getMeterProvider();
    if (this.otel?.provider !== provider) {
      const meter = provider.getMeter('@kzr/inference');
      this.otel = {
        provider,
        duration: meter.createHistogram('kzr.inference.request.duration', {
          unit: 'ms',
          description: 'Request latency by method, status and serving model-set version',
          advice: { explicitBucketBoundaries: [...latencyBucketsMs] },
        }),
        requests: meter.createCounter('kzr.inference.requests', {
          description: 'Requests by method, status and serving model-set version',
        }),
        batch: meter.createHistogram('kzr.inference.batch.size', {
          description: 'TTA views per engine batch (dynamic batching across requests)',
          advice: { explicitBucketBoundaries: [...batchBuckets] },
        }),
      };
      meter
        .createObservableGauge('kzr.inference.queue.depth', { description: 'Views waiting in the batchers' })
        .addCallback((result) => result.observe(this.depth()));
    }
    return this.otel;
  }

  /** Records one finished request. */
  request(method: string, status: string, latencyMs: number, servedBy?: string): void {
    const [modelSet = '', version = ''] = servedBy?.split('@') ?? [];
    const attributes = { method, status, model_set: modelSet, version };
    const otel = this.instruments();
    otel.duration.record(latencyMs, attributes);
    otel.requests.add(1, attributes);
    let h = this.latency.get(method);
    if (!h) this.latency.set(method, (h = new Histogram(latencyBucketsMs)));
    h.record(latencyMs);
    const k = `${method} ${status}`;
    this.byStatus.set(k, (this.byStatus.get(k) ?? 0) + 1);
    if (servedBy) this.byVersion.set(servedBy, (this.byVersion.get(servedBy) ?? 0) + 1);
  }

  /** Records one engine batch. */
  batch(rows: number): void {
    this.instruments().batch.record(rows);
    this.batches.record(rows);
  }

  /** Sets the gauge callback for rows waiting in the batchers. */
  observeQueueDepth(read: () => number): void {
    this.depth = read;
  }

  snapshot(): MetricsSnapshot {
    return {
      latencyMs: Object.fromEntries([...this.latency].map(([k, h]) => [k, h.snapshot()])),
      batchRows: this.batches.snapshot(),
      requestsByStatus: Object.fromEntries(this.byStatus),
      requestsByVersion: Object.fromEntries(this.byVersion),
      queueDepth: this.depth(),
    };
  }
}
