/**
 * Trace context across Bus messages: the publisher's span context travels in the message
 * headers (W3C `traceparent` / `tracestate` through the global propagator), and each delivery
 * runs its handler in a consumer span whose parent is the publish span. Attribute names follow
 * the OpenTelemetry messaging semantic conventions. Without a started SDK every call here is a
 * no-op.
 */
import {
  type Counter,
  context,
  type Histogram,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

import { meterInstruments } from '../telemetry/instruments.js';
import { encodeEvent, type EventMap, type EventSubject } from './events.js';
import type { PublishOptions, PublishResult, RawPublish } from './types.js';

const tracerName = '@kzr/platform/bus';

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
const getter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** Messaging attribute keys (semantic conventions, messaging, incubating in 1.45). */
const Attr = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  consumerGroup: 'messaging.consumer.group.name',
  deliveryCount: 'messaging.kzr.delivery_count',
} as const;

/**
 * Runs `fn` inside a producer span for a publish of `subject`, with the span's context injected
 * into `headers` (mutated) before `fn` runs.
 */
export async function withPublishSpan<T>(
  system: string,
  subject: string,
  id: string,
  headers: Record<string, string>,
  fn: () => Promise<T>,
): Promise<T> {
  const span = trace.getTracer(tracerName).startSpan(`publish ${subject}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [Attr.system]: system,
      [Attr.destination]: subject,
      [Attr.operationType]: 'send',
      [Attr.operationName]: 'publish',
      [Attr.messageId]: id,
    },
  });
  const active = trace.setSpan(context.active(), span);
  propagation.inject(active, headers, setter);
  return finish(span, () => context.with(active, fn));
}

/**
 * The publish path both Bus implementations share: encodes the event (envelope defaults from
 * `source`), hands it to the adapter's `publishRaw` inside a producer span whose context travels
 * in the headers, and counts the publish.
 */
export async function publishTraced<S extends EventSubject>(
  system: string,
  source: string,
  subject: S,
  event: EventMap[S],
  options: PublishOptions,
  publishRaw: RawPublish,
): Promise<PublishResult> {
  const { id, body } = encodeEvent(subject, event, { id: options.id, source, now: new Date() });
  const headers: Record<string, string> = { ...options.headers };
  const result = await withPublishSpan(system, subject, id, headers, async () =>
    publishRaw(subject, body, id, headers),
  );
  recordPublished(system, subject, result.duplicate);
  return result;
}

/** Runs a handler inside a consumer span whose parent is the context found in `headers`. */
export async function withProcessSpan<T>(
  system: string,
  subject: string,
  id: string,
  consumer: string,
  deliveryCount: number,
  headers: Readonly<Record<string, string>>,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), headers, getter);
  const span = trace.getTracer(tracerName).startSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [Attr.system]: system,
        [Attr.destination]: subject,
        [Attr.operationType]: 'process',
        [Attr.operationName]: 'process',
        [Attr.messageId]: id,
        [Attr.consumerGroup]: consumer,
        [Attr.deliveryCount]: deliveryCount,
      },
    },
    parent,
  );
  return finish(span, () => context.with(trace.setSpan(parent, span), fn));
}

async function finish<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

interface BusInstruments {
  readonly published: Counter;
  readonly processed: Counter;
  readonly durationMs: Histogram;
}

/** The Bus metrics. */
const busInstruments = meterInstruments('@kzr/platform/bus', (meter): BusInstruments => ({
  published: meter.createCounter('kzr.bus.messages.published', { description: 'Events published, by subject' }),
  processed: meter.createCounter('kzr.bus.messages.processed', {
    description: 'Deliveries handled, by subject, consumer and outcome (ack, nak, dead_letter)',
  }),
  durationMs: meter.createHistogram('kzr.bus.process.duration', {
    unit: 'ms',
    description: 'Handler time per delivery',
  }),
}));

/** Counts a publish. */
export function recordPublished(system: string, subject: string, duplicate: boolean): void {
  busInstruments().published.add(1, { [Attr.system]: system, [Attr.destination]: subject, duplicate });
}

/** Counts a handled delivery and its handler time. */
export function recordProcessed(
  system: string,
  subject: string,
  consumer: string,
  outcome: string,
  durationMs: number,
): void {
  const attributes = { [Attr.system]: system, [Attr.destination]: subject, [Attr.consumerGroup]: consumer, outcome };
  const bus = busInstruments();
  bus.processed.add(1, attributes);
  bus.durationMs.record(durationMs, attributes);
}
