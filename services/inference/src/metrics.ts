/**
 * Request metrics of the inference service: latency and batch-size histograms, queue depth,
 * requests by status and by model-set version. Kept in memory with fixed buckets; the platform
 * telemetry exporter reads {@link InferenceMetrics.snapshot} (wiring it to OpenTelemetry
 * instruments is left to the telemetry issue, which owns the meter provider).
 */

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

/** The service's counters. */
export class InferenceMetrics {
  private readonly latency = new Map<string, Histogram>();
  private readonly batches = new Histogram(batchBuckets);
  private readonly byStatus = new Map<string, number>();
  private readonly byVersion = new Map<string, number>();
  private depth: () => number = () => 0;

  /** Records one finished request. */
  request(method: string, status: string, latencyMs: number, servedBy?: string): void {
    let h = this.latency.get(method);
    if (!h) this.latency.set(method, (h = new Histogram(latencyBucketsMs)));
    h.record(latencyMs);
    const k = `${method} ${status}`;
    this.byStatus.set(k, (this.byStatus.get(k) ?? 0) + 1);
    if (servedBy) this.byVersion.set(servedBy, (this.byVersion.get(servedBy) ?? 0) + 1);
  }

  /** Records one engine batch. */
  batch(rows: number): void {
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
