/**
 * Request metrics of the inference service, as OpenTelemetry instruments on the global meter
 * provider (the platform telemetry exports them: Prometheus `/metrics` with `KZR_METRICS_PORT`;
 * no-ops without it). Tests and benchmarks read them through a MetricReader, as an exporter would.
 *
 * Names: `kzr.inference.request.duration` (ms; method, status, model_set, version),
 * `kzr.inference.requests` (same attributes), `kzr.inference.batch.size` (views per engine
 * batch), `kzr.inference.queue.depth` (views waiting in the batchers),
 * `kzr.inference.queue.rejected` (submissions refused because a batch queue was full).
 */
import { meterInstruments } from '@kzr/platform';

/** Latency bucket bounds, ms. */
export const latencyBucketsMs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] as const;
/** Batch-size bucket bounds, rows. */
export const batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] as const;

/** The service's instruments. */
export class InferenceMetrics {
  private depth: () => number = () => 0;
  private readonly instruments = meterInstruments('@kzr/inference', (meter) => {
    meter
      .createObservableGauge('kzr.inference.queue.depth', { description: 'Views waiting in the batchers' })
      .addCallback((result) => result.observe(this.depth()));
    return {
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
      rejected: meter.createCounter('kzr.inference.queue.rejected', {
        description: 'Batch submissions (a request for one model) refused with RESOURCE_EXHAUSTED: the queue was full',
      }),
    };
  });

  /** Records one finished request; `servedBy` is the serving `set@version` of a successful one. */
  request(method: string, status: string, latencyMs: number, servedBy?: string): void {
    const [modelSet = '', version = ''] = servedBy?.split('@') ?? [];
    const attributes = { method, status, model_set: modelSet, version };
    const otel = this.instruments();
    otel.duration.record(latencyMs, attributes);
    otel.requests.add(1, attributes);
  }

  /** Records one engine batch. */
  batch(rows: number): void {
    this.instruments().batch.record(rows);
  }

  /** Counts a submission refused by a full batch queue. */
  rejected(): void {
    this.instruments().rejected.add(1);
  }

  /** Sets the gauge callback for rows waiting in the batchers. */
  observeQueueDepth(read: () => number): void {
    this.depth = read;
  }
}
