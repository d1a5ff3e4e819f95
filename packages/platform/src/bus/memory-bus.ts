/**
 * The in-process Bus of the embedded mode: the same subjects and semantics as the NATS one
 * (one stream, durable consumers shared by replicas, ack wait, nak with delay, max deliveries
 * and dead letters, dedupe by id inside a window, request/reply), kept in memory. It lives and
 * dies with its process.
 */
import { ErrorKind, KzrError } from '@kzr/core';

import { NotReadyError, ValidationError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import type { EventMap, EventSubject } from './events.js';
import {
  anyMessageHandler,
  checkRequestSubject,
  dispatch,
  drainDeliveries,
  publishDeadLetter,
  type RawDelivery,
  resolveConsumerOptions,
  type ResolvedConsumerOptions,
  subjectMatches,
} from './dispatch.js';
import { publishTraced } from './tracing.js';
import type {
  Bus,
  ConsumerOptions,
  MessageFor,
  MessageHandler,
  PublishOptions,
  PublishResult,
  RawPublish,
  RequestHandler,
  RequestOptions,
  Subscription,
} from './types.js';

/** Options of {@link MemoryBus}. */
export interface MemoryBusOptions {
  /**
   * How long a message id is remembered for deduplication.
   * @default 3600000 (1 h, as the NATS stream)
   */
  readonly duplicateWindowMs?: number;
  /** `meta.source` of events published without one. @default 'kzr' */
  readonly source?: string;
  readonly logger?: Logger;
}

interface StoredMessage {
  readonly sequence: number;
  readonly subject: string;
  readonly id: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

interface Pending {
  deliveryCount: number;
  token: number;
  timer: NodeJS.Timeout | undefined;
}

interface Subscriber {
  readonly handler: MessageHandler;
  /** This subscriber's settings (in-flight bound, retry delays); ack wait and max deliveries are the durable's. */
  readonly options: ResolvedConsumerOptions;
  readonly slots: number;
  inFlight: number;
  stopped: boolean;
  readonly running: Set<Promise<void>>;
  /** Aborted when a stop's grace runs out: the running deliveries are returned. */
  readonly drain: AbortController;
}

class Durable {
  /** The latest subscriber's settings (as `consumers.update` on NATS). */
  options: ResolvedConsumerOptions;
  /** Next stream sequence not yet delivered for the first time. */
  cursor = 1;
  readonly pending = new Map<number, Pending>();
  /** Sequences due for redelivery, kept sorted. */
  readonly ready: number[] = [];
  readonly subscribers: Subscriber[] = [];
  nextSubscriber = 0;
  token = 0;

  constructor(options: ResolvedConsumerOptions) {
    this.options = options;
  }
}

/** In-process {@link Bus}. */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly #messages: StoredMessage[] = [];
  readonly #ids = new Map<string, { sequence: number; atMs: number }>();
  readonly #durables = new Map<string, Durable>();
  readonly #responders = new Map<string, { handlers: RequestHandler[]; next: number }>();
  readonly #duplicateWindowMs: number;
  readonly #source: string;
  readonly #logger: Logger;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** {@link MemoryBus.publishRaw} bound, for the shared publish and dead-letter paths. */
  readonly #publishRaw: RawPublish = (...args) => this.publishRaw(...args);
  #closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.#duplicateWindowMs = options.duplicateWindowMs ?? 3_600_000;
    this.#source = options.source ?? 'kzr';
    this.#logger = options.logger ?? createLogger({ level: 'warn' });
  }

  async publish<S extends EventSubject>(
    subject: S,
    event: EventMap[S],
    options: PublishOptions,
  ): Promise<PublishResult> {
    this.#checkOpen();
    return publishTraced('kzr.memory', this.#source, subject, event, options, this.#publishRaw);
  }

  /**
   * Stores a message without any schema check (dead letters; tests of receipt checks).
   * @internal
   */
  publishRaw(
    subject: string,
    body: Uint8Array,
    id: string,
    headers: Readonly<Record<string, string>> = {},
  ): PublishResult {
    this.#checkOpen();
    const now = Date.now();
    for (const [key, seen] of this.#ids) {
      if (now - seen.atMs <= this.#duplicateWindowMs) break;
      this.#ids.delete(key);
    }
    const seen = this.#ids.get(id);
    if (seen) return { id, sequence: seen.sequence, duplicate: true };
    const sequence = this.#messages.length + 1;
    this.#messages.push({ sequence, subject, id, body: body.slice(), headers: { ...headers, 'Nats-Msg-Id': id } });
    this.#ids.set(id, { sequence, atMs: now });
    for (const durable of this.#durables.values()) this.#pump(durable);
    return { id, sequence, duplicate: false };
  }

  async consume<F extends string>(
    options: ConsumerOptions<F>,
    handler: MessageHandler<MessageFor<F>>,
  ): Promise<Subscription> {
    this.#checkOpen();
    const resolved = resolveConsumerOptions(options);
    let durable = this.#durables.get(resolved.durable);
    if (!durable) {
      durable = new Durable(resolved);
      this.#durables.set(resolved.durable, durable);
    } else if (durable.options.filterSubject !== resolved.filterSubject) {
      throw new ValidationError(
        'filterSubject',
        `durable ${resolved.durable} already filters ${durable.options.filterSubject}`,
      );
    } else {
      durable.options = resolved;
    }
    const subscriber: Subscriber = {
      handler: anyMessageHandler(handler),
      options: resolved,
      slots: resolved.maxInFlight,
      inFlight: 0,
      stopped: false,
      running: new Set(),
      drain: new AbortController(),
    };
    durable.subscribers.push(subscriber);
    const owner = durable;
    queueMicrotask(() => this.#pump(owner));
    let stopping: Promise<void> | undefined;
    const stop = (graceMs?: number): Promise<void> => {
      stopping ??= (async () => {
        subscriber.stopped = true;
        owner.subscribers.splice(owner.subscribers.indexOf(subscriber), 1);
        await drainDeliveries(subscriber.running, subscriber.drain, graceMs);
      })();
      return stopping;
    };
    return { stop, [Symbol.asyncDispose]: () => stop() };
  }

  async request(subject: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    this.#checkOpen();
    checkRequestSubject(subject);
    const entry = this.#responders.get(subject);
    if (!entry || entry.handlers.length === 0) throw new NotReadyError(`no responder on ${subject}`);
    const handler = entry.handlers[entry.next++ % entry.handlers.length]!;
    const timeoutMs = options.timeoutMs ?? 5000;
    // Through JSON, as over the wire: the responder never shares objects with the requester.
    const copy = JSON.parse(JSON.stringify(payload ?? null)) as unknown;
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        handler(copy, {}),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new KzrError(ErrorKind.Deadline, `request on ${subject} timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return JSON.parse(JSON.stringify(reply ?? null)) as unknown;
    } catch (err) {
      if (err instanceof KzrError) throw err;
      throw new KzrError(
        ErrorKind.Internal,
        `responder on ${subject} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async respond(subject: string, handler: RequestHandler): Promise<Subscription> {
    this.#checkOpen();
    checkRequestSubject(subject);
    const entry = this.#responders.get(subject) ?? { handlers: [], next: 0 };
    this.#responders.set(subject, entry);
    entry.handlers.push(handler);
    const stop = async (): Promise<void> => {
      const index = entry.handlers.indexOf(handler);
      if (index >= 0) entry.handlers.splice(index, 1);
    };
    return { stop, [Symbol.asyncDispose]: stop };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const running: Array<Promise<void>> = [];
    for (const durable of this.#durables.values()) {
      for (const subscriber of durable.subscribers) {
        subscriber.stopped = true;
        running.push(...subscriber.running);
      }
      for (const pending of durable.pending.values()) clearTimeout(pending.timer);
    }
    for (const timer of this.#timers) clearTimeout(timer);
    this.#responders.clear();
    await Promise.allSettled(running);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new NotReadyError('the bus is closed');
  }

  #later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  /** Hands ready messages to subscribers with free slots. */
  #pump(durable: Durable): void {
    if (this.#closed) return;
    for (;;) {
      const subscriber = this.#freeSubscriber(durable);
      if (!subscriber) return;
      const message = this.#nextMessage(durable);
      if (!message) return;
      this.#deliver(durable, subscriber, message);
    }
  }

  #freeSubscriber(durable: Durable): Subscriber | undefined {
    const count = durable.subscribers.length;
    for (let i = 0; i < count; i++) {
      const candidate = durable.subscribers[(durable.nextSubscriber + i) % count]!;
      if (!candidate.stopped && candidate.inFlight < candidate.slots) {
        durable.nextSubscriber = (durable.nextSubscriber + i + 1) % count;
        return candidate;
      }
    }
    return undefined;
  }

  #nextMessage(durable: Durable): StoredMessage | undefined {
    const redelivery = durable.ready.shift();
    if (redelivery !== undefined) return this.#messages[redelivery - 1];
    while (durable.cursor <= this.#messages.length) {
      const message = this.#messages[durable.cursor - 1]!;
      durable.cursor++;
      if (subjectMatches(durable.options.filterSubject, message.subject)) return message;
    }
    return undefined;
  }

  #deliver(durable: Durable, subscriber: Subscriber, message: StoredMessage): void {
    const { options } = durable;
    const pending = durable.pending.get(message.sequence) ?? { deliveryCount: 0, token: 0, timer: undefined };
    durable.pending.set(message.sequence, pending);
    pending.deliveryCount++;
    const token = ++durable.token;
    pending.token = token;
    const current = (): boolean => !this.#closed && durable.pending.get(message.sequence)?.token === token;
    const finish = (): void => {
      clearTimeout(pending.timer);
      durable.pending.delete(message.sequence);
    };
    const armAckWait = (): void => {
      clearTimeout(pending.timer);
      pending.timer = this.#later(options.ackWaitMs, () => {
        if (!current()) return;
        pending.token = -1;
        if (pending.deliveryCount >= options.maxDeliver) {
          finish();
          this.#deadLetterAfterAckWait(durable, message, pending.deliveryCount);
        } else {
          this.#makeReady(durable, message.sequence);
        }
      });
    };
    armAckWait();
    const raw: RawDelivery = {
      subject: message.subject,
      body: message.body,
      headers: message.headers,
      deliveryCount: pending.deliveryCount,
      sequence: message.sequence,
      id: message.id,
      ack: async () => {
        if (current()) finish();
      },
      nak: (delayMs) => {
        if (!current()) return;
        clearTimeout(pending.timer);
        pending.token = -1;
        pending.timer = this.#later(delayMs, () => this.#makeReady(durable, message.sequence));
      },
      term: () => {
        if (current()) finish();
      },
      working: () => {
        if (current()) armAckWait();
      },
    };
    subscriber.inFlight++;
    const run = dispatch(
      raw,
      {
        system: 'kzr.memory',
        options: { ...subscriber.options, ackWaitMs: options.ackWaitMs, maxDeliver: options.maxDeliver },
        logger: this.#logger,
        publishRaw: this.#publishRaw,
      },
      subscriber.handler,
      subscriber.drain.signal,
    ).finally(() => {
      subscriber.inFlight--;
      subscriber.running.delete(run);
      this.#pump(durable);
    });
    subscriber.running.add(run);
  }

  #makeReady(durable: Durable, sequence: number): void {
    if (this.#closed) return;
    const at = durable.ready.findIndex((s) => s > sequence);
    durable.ready.splice(at === -1 ? durable.ready.length : at, 0, sequence);
    this.#pump(durable);
  }

  #deadLetterAfterAckWait(durable: Durable, message: StoredMessage, deliveryCount: number): void {
    const { maxDeliver, durable: consumer } = durable.options;
    publishDeadLetter(
      this.#publishRaw,
      { ...message, deliveryCount },
      consumer,
      `max deliveries reached (${maxDeliver}); ack wait expired`,
    ).catch((err: unknown) => this.#logger.error('dead letter after the ack wait failed', { consumer, err }));
  }
}
