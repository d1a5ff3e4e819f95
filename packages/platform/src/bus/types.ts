/**
 * The Bus: kzr's events (JetStream stream `KZR`, subjects `kzr.>`) and request/reply. Two
 * implementations share these semantics and one contract suite: {@link NatsBus} (cluster) and
 * {@link MemoryBus} (embedded; lives and dies with its process).
 */
import type { DeadLetter, EventMap, EventSubject } from './events.js';

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
  /**
   * Aborted when the subscriber drains and its grace period is over: the Bus has then returned
   * the delivery (nak) for another replica, so a long handler should stop at its next safe point.
   */
  readonly signal: AbortSignal;
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

/** Any delivered event, discriminated by `subject`. */
export type AnyEventMessage = { [S in EventSubject]: EventMessage<S> }[EventSubject];

/** What a consumer's handler may receive. */
export type BusMessage = AnyEventMessage | DeadLetterMessage;

type Tokens<S extends string> = S extends `${infer Head}.${infer Rest}` ? [Head, ...Tokens<Rest>] : [S];

type TokensMatch<F extends readonly string[], S extends readonly string[]> = F extends ['>']
  ? S extends [string, ...string[]]
    ? true
    : false
  : F extends [infer FHead, ...infer FRest extends string[]]
    ? S extends [infer SHead, ...infer SRest extends string[]]
      ? FHead extends '*' | SHead
        ? TokensMatch<FRest, SRest>
        : false
      : false
    : S extends []
      ? true
      : false;

/** True when the NATS-style filter `F` matches subject `S` (the type-level `subjectMatches`). */
export type SubjectMatches<F extends string, S extends string> = TokensMatch<Tokens<F>, Tokens<S>>;

/**
 * What a consumer on filter subject `F` receives: the event messages of the event subjects `F`
 * matches, and dead letters when it matches a `kzr.dlq.<subject>`. The Bus hands a handler
 * nothing else (a message on any other subject is dead-lettered as invalid), so a handler on
 * `kzr.models.published` gets a `ModelsPublished` without checking. A filter only known as a
 * `string` receives any {@link BusMessage}.
 */
export type MessageFor<F extends string> = string extends F
  ? BusMessage
  : | { [S in EventSubject]: SubjectMatches<F, S> extends true ? EventMessage<S> : never }[EventSubject]
    | { [S in EventSubject]: SubjectMatches<F, `kzr.dlq.${S}`> extends true ? DeadLetterMessage : never }[EventSubject];

/**
 * Handles one message. Returning without settling acks it; throwing naks it with backoff when
 * the error is retryable (`retryable !== false`) and terms it (dead letter) otherwise.
 */
export type MessageHandler<M extends BusMessage = BusMessage> = (message: M) => Promise<void>;

/** A durable consumer's settings. Replicas passing the same `durable` share the work. */
export interface ConsumerOptions<F extends string = string> {
  /** Durable consumer name, one per consuming service. */
  readonly durable: string;
  /** The one subject filter (wildcards `*` and `>` allowed), e.g. `kzr.phase.*`. */
  readonly filterSubject: F;
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
  /**
   * Stops pulling new messages (a message pulled but not yet handed to a handler goes back at
   * once) and waits for the running handlers. With `graceMs`, a handler still running after it
   * has its delivery returned (nak with the first retry delay) and its message's `signal`
   * aborted, so a subscriber scaled down or shut down loses nothing and delays nothing by a
   * whole ack wait. Idempotent.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Handles a request; the result is the reply (JSON). */
export type RequestHandler = (payload: unknown, headers: Readonly<Record<string, string>>) => Promise<unknown>;

/** Options of {@link Bus.request}. */
export interface RequestOptions {
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * An implementation's raw publish: stores bytes on a subject without any check (dead letters;
 * tests of the receipt checks).
 */
export type RawPublish = (
  subject: string,
  body: Uint8Array,
  id: string,
  headers: Readonly<Record<string, string>>,
) => PublishResult | Promise<PublishResult>;

/** The Bus adapter interface. */
export interface Bus extends AsyncDisposable {
  /** Which implementation: `nats` or `memory`. */
  readonly kind: 'nats' | 'memory';
  /** Checks `event` against the subject's schema and stores it in the stream. */
  publish<S extends EventSubject>(subject: S, event: EventMap[S], options: PublishOptions): Promise<PublishResult>;
  /**
   * Starts a subscription on a durable consumer (created when missing). The handler's message is
   * typed by the filter subject: see {@link MessageFor}.
   */
  consume<F extends string>(options: ConsumerOptions<F>, handler: MessageHandler<MessageFor<F>>): Promise<Subscription>;
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
