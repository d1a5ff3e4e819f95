/**
 * The Bus: kzr's events (JetStream stream `KZR`, subjects `kzr.>`) and request/reply. Two
 * implementations share these semantics and one contract suite: {@link NatsBus} (cluster) and
 * {@link MemoryBus} (embedded; lives and dies with its process).
 */
import type { DeadLetter, EventMap, EventSubject, KzrEvent } from './events.js';

/** Options of {@link Bus.publish}. */
export interface PublishOptions {
  /**
   * Id of the event; the JetStream message id. A second publish with the same id inside the
   * duplicate window is dropped and reported as `duplicate`.
   */
  readonly id: string;
  /** Extra message headers (trace context is added by the Bus). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What {@link Bus.publish} reports. */
export interface PublishResult {
  readonly id: string;
  /** Stream sequence of the stored message (of the first one, for a duplicate). */
  readonly sequence: number;
  /** True when the id was seen inside the duplicate window and nothing new was stored. */
  readonly duplicate: boolean;
}

interface BusMessageBase {
  /** Subject the message was published on. */
  readonly subject: string;
  /** Event id (message id). */
  readonly id: string;
  /** 1 on the first delivery, 2 on the first redelivery, and so on. */
  readonly deliveryCount: number;
  /** Stream sequence. */
  readonly sequence: number;
  /** Message headers (including the trace context). */
  readonly headers: Readonly<Record<string, string>>;
  /** Acknowledges; resolves once the server confirmed it (a confirmed ack is never redelivered). */
  ack(): Promise<void>;
  /**
   * Asks for a redelivery after `delayMs`. On the last allowed delivery the message goes to the
   * dead-letter subject instead.
   */
  nak(delayMs?: number): Promise<void>;
  /** Gives the message up for good: it is republished to `kzr.dlq.<subject>` with `reason`. */
  term(reason: string): Promise<void>;
  /** Restarts the ack wait (for long handlers). */
  working(): void;
}

/** A delivered event, checked against its schema. */
export interface EventMessage<S extends EventSubject = EventSubject> extends BusMessageBase {
  readonly kind: 'event';
  readonly subject: S;
  readonly event: EventMap[S];
}

/** A delivered dead letter (from a `kzr.dlq.<subject>` subject). */
export interface DeadLetterMessage extends BusMessageBase {
  readonly kind: 'dead-letter';
  readonly deadLetter: DeadLetter;
}

/** What a consumer's handler receives. */
export type BusMessage = EventMessage | DeadLetterMessage;

/**
 * Handles one message. Returning without settling acks it; throwing naks it with backoff when
 * the error is retryable (`retryable !== false`) and terms it (dead letter) otherwise.
 */
export type MessageHandler = (message: BusMessage) => Promise<void>;

/** A durable consumer's settings. Replicas passing the same `durable` share the work. */
export interface ConsumerOptions {
  /** Durable consumer name, one per consuming service. */
  readonly durable: string;
  /** The one subject filter (wildcards `*` and `>` allowed), e.g. `kzr.phase.*`. */
  readonly filterSubject: string;
  /**
   * How long a delivered message may stay unacknowledged before it is delivered again.
   * @default 30000
   */
  readonly ackWaitMs?: number;
  /**
   * Deliveries allowed per message; after the last one it goes to `kzr.dlq.<subject>`.
   * @default 5
   */
  readonly maxDeliver?: number;
  /**
   * Messages this subscriber handles at once (bounded in-flight). 1 keeps publish order for
   * first deliveries.
   * @default 1
   */
  readonly maxInFlight?: number;
  /**
   * Delay before a redelivery after a retryable failure, by delivery number (the last entry
   * repeats).
   * @default [1000, 10000, 60000]
   */
  readonly retryDelaysMs?: readonly number[];
}

/** A running subscription of a durable consumer. */
export interface Subscription extends AsyncDisposable {
  /** Stops pulling new messages and waits for the running handlers. Idempotent. */
  stop(): Promise<void>;
}

/** Handles a request; the result is the reply (JSON). */
export type RequestHandler = (payload: unknown, headers: Readonly<Record<string, string>>) => Promise<unknown>;

/** Options of {@link Bus.request}. */
export interface RequestOptions {
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/** The Bus adapter interface. */
export interface Bus extends AsyncDisposable {
  /** Which implementation: `nats` or `memory`. */
  readonly kind: 'nats' | 'memory';
  /** Checks `event` against the subject's schema and stores it in the stream. */
  publish<S extends EventSubject>(
    subject: S,
    event: EventMap[S] | KzrEvent,
    options: PublishOptions,
  ): Promise<PublishResult>;
  /** Starts a subscription on a durable consumer (created when missing). */
  consume(options: ConsumerOptions, handler: MessageHandler): Promise<Subscription>;
  /**
   * Sends a request and waits for one reply. Request subjects live outside `kzr.>` (that space
   * belongs to the event stream). No responder gives a NotReadyError.
   */
  request(subject: string, payload: unknown, options?: RequestOptions): Promise<unknown>;
  /** Answers requests on `subject`; responders on one subject share them (queue group). */
  respond(subject: string, handler: RequestHandler): Promise<Subscription>;
  /** Stops every subscription and releases the connection. Idempotent. */
  close(): Promise<void>;
}
