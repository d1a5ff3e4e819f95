/**
 * The NATS JetStream Bus of the cluster mode (client `@nats-io/*` 3.4, server 2.9 features
 * only: one filter subject per consumer, no per-message TTL).
 *
 * One stream `KZR` (subjects `kzr.>`, limits retention, file storage, duplicate window 1 h by
 * default). Each service has a durable pull consumer (explicit ack, `ack_wait`, `max_deliver`);
 * replicas share it. Acks are confirmed by the server (`ackAck`), so a message whose ack was
 * confirmed is not delivered again, also across a server restart. A message that used up its
 * deliveries is republished to `kzr.dlq.<subject>`: by the handler wrapper when the last
 * delivery fails, and from the server's MAX_DELIVERIES advisory when the last ack wait expires.
 */
import { randomUUID } from 'node:crypto';

import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import {
  connect,
  ConnectionError,
  headers as natsHeaders,
  type MsgHdrs,
  nanos,
  type NatsConnection,
  NoRespondersError,
  type Subscription as NatsSubscription,
  TimeoutError,
} from '@nats-io/transport-node';
import { ErrorKind, KzrError } from '@kzr/core';

import { NotReadyError, ValidationError } from '../errors.js';
import { type NatsAuth, natsSecurityOptions, type NatsTls } from './nats-auth.js';
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
  Slots,
} from './dispatch.js';
import { publishTraced, withPublishSpan } from './tracing.js';
import type {
  Bus,
  ConsumerOptions,
  MessageFor,
  MessageHandler,
  PublishOptions,
  PublishResult,
  RequestHandler,
  RawPublish,
  RequestOptions,
  Subscription,
} from './types.js';

/** Options of {@link NatsBus.connect}. */
export interface NatsBusOptions {
  /** Server URLs, e.g. `nats://nats:4222`. */
  readonly servers: string | readonly string[];
  /** Connection name shown by the server. @default 'kzr' */
  readonly name?: string;
  /** Stream name. @default 'KZR' */
  readonly stream?: string;
  /** Duplicate window of the stream (dedupe by id). @default 3600000 (1 h) */
  readonly duplicateWindowMs?: number;
  /** `meta.source` of events published without one. @default the connection name */
  readonly source?: string;
  /** How long a publish keeps retrying while the server is unreachable. @default 30000 */
  readonly publishTimeoutMs?: number;
  /**
   * How long connecting keeps trying while the server is unreachable or its JetStream not yet
   * ready (a service or a phase Job started while nats-server restarts), with backoff from 100 ms
   * to 2 s. @default 0 (one try)
   */
  readonly connectTimeoutMs?: number;
  /** Time between reconnect attempts. @default 250 */
  readonly reconnectWaitMs?: number;
  /** Credentials presented to the server (see `nats-auth.ts`). @default none */
  readonly auth?: NatsAuth | undefined;
  /** TLS with the server's CA. @default plaintext, unless a URL is `tls://` */
  readonly tls?: NatsTls | undefined;
  readonly logger?: Logger;
}

function toRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const key of h.keys()) out[key] = h.get(key);
  return out;
}

function toHeaders(record: Readonly<Record<string, string>>): MsgHdrs {
  const h = natsHeaders();
  for (const [key, value] of Object.entries(record)) h.set(key, value);
  return h;
}

function isTransient(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return (
    err instanceof TimeoutError ||
    err instanceof NoRespondersError ||
    cause instanceof TimeoutError ||
    cause instanceof NoRespondersError
  );
}

function isUnreachable(err: unknown): boolean {
  return err instanceof ConnectionError && /connection refused/i.test(err.message);
}

interface Reply {
  ok?: unknown;
  error?: { kind: string; message: string; field?: string | undefined };
}

/** NATS JetStream {@link Bus}. */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #source: string;
  readonly #logger: Logger;
  readonly #publishTimeoutMs: number;
  readonly #subscriptions = new Set<Subscription>();
  /** {@link NatsBus.publishRaw} bound, for the shared publish and dead-letter paths. */
  readonly #publishRaw: RawPublish = (...args) => this.publishRaw(...args);
  #closing: Promise<void> | undefined;

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    stream: string,
    source: string,
    logger: Logger,
    publishTimeoutMs: number,
  ) {
    this.#nc = nc;
    this.#publishTimeoutMs = publishTimeoutMs;
    this.#js = jetstream(nc);
    this.#jsm = jsm;
    this.#stream = stream;
    this.#source = source;
    this.#logger = logger;
  }

  /** Connects and makes sure the stream exists, trying again for `connectTimeoutMs`. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const deadline = Date.now() + (options.connectTimeoutMs ?? 0);
    for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
      try {
        return await NatsBus.#connectOnce(options);
      } catch (err) {
        // A refused connection, or a server up whose JetStream does not answer yet.
        if (!(isUnreachable(err) || isTransient(err)) || Date.now() + pause > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  static async #connectOnce(options: NatsBusOptions): Promise<NatsBus> {
    const name = options.name ?? 'kzr';
    const nc = await connect({
      servers: typeof options.servers === 'string' ? options.servers : [...options.servers],
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 250,
      ...natsSecurityOptions(options.auth, options.tls),
    });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = options.stream ?? 'KZR';
      const duplicateWindowMs = options.duplicateWindowMs ?? 3_600_000;
      try {
        await jsm.streams.info(stream);
      } catch {
        await jsm.streams.add({
          name: stream,
          subjects: ['kzr.>'],
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          duplicate_window: nanos(duplicateWindowMs),
        });
      }
      return new NatsBus(
        nc,
        jsm,
        stream,
        options.source ?? name,
        options.logger ?? createLogger({ level: 'warn' }),
        options.publishTimeoutMs ?? 30_000,
      );
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  async publish<S extends EventSubject>(
    subject: S,
    event: EventMap[S],
    options: PublishOptions,
  ): Promise<PublishResult> {
    this.#checkOpen();
    return publishTraced('nats', this.#source, subject, event, options, this.#publishRaw);
  }

  /**
   * Stores a message without any schema check (dead letters; tests of receipt checks).
   * @internal
   */
  async publishRaw(
    subject: string,
    body: Uint8Array,
    id: string,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<PublishResult> {
    // A publish sent while the connection is down can be lost when the client flushes it on
    // reconnect; the msgID makes a retry safe (the stream drops a second copy).
    const deadline = Date.now() + this.#publishTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await this.#js.publish(subject, body, {
          msgID: id,
          headers: toHeaders(headers),
          timeout: Math.max(500, Math.min(2000, deadline - Date.now())),
        });
        // A retry of a publish whose first ack was lost reports the first copy as a duplicate.
        return { id, sequence: ack.seq, duplicate: ack.duplicate && attempt === 1 };
      } catch (err) {
        if (!isTransient(err) || Date.now() >= deadline || this.#nc.isClosed()) throw err;
        this.#logger.debug('publish retried', { subject, id, attempt, err });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async consume<F extends string>(
    options: ConsumerOptions<F>,
    handler: MessageHandler<MessageFor<F>>,
  ): Promise<Subscription> {
    this.#checkOpen();
    const resolved = resolveConsumerOptions(options);
    const config = {
      durable_name: resolved.durable,
      filter_subject: resolved.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(resolved.ackWaitMs),
      max_deliver: resolved.maxDeliver,
    };
    // A durable that exists keeps its filter: nats-server 2.9 would silently change it on add.
    const existing = await this.#jsm.consumers.info(this.#stream, resolved.durable).catch(() => undefined);
    if (!existing) {
      await this.#jsm.consumers.add(this.#stream, config);
    } else if (existing.config.filter_subject !== resolved.filterSubject) {
      throw new ValidationError(
        'filterSubject',
        `durable ${resolved.durable} already filters ${existing.config.filter_subject ?? '(nothing)'}`,
      );
    } else if (existing.config.ack_wait !== config.ack_wait || existing.config.max_deliver !== config.max_deliver) {
      await this.#jsm.consumers.update(this.#stream, resolved.durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
      });
    }
    const consumer = await this.#js.consumers.get(this.#stream, resolved.durable);
    const messages = await consumer.consume({ max_messages: resolved.maxInFlight });
    const slots = new Slots(resolved.maxInFlight);
    const running = new Set<Promise<void>>();
    const drain = new AbortController();
    /** A message pulled while every slot is busy; a stop returns it at once instead of after its ack wait. */
    let held: JsMsg | undefined;
    const returnHeld = (): void => {
      held?.nak();
      held = undefined;
    };
    const context = {
      system: 'nats',
      options: resolved,
      logger: this.#logger,
      publishRaw: this.#publishRaw,
    };
    let stopped = false;
    const loop = (async () => {
      for await (const m of messages) {
        held = m;
        await slots.acquire();
        if (stopped) {
          // Every message pulled before the stop goes back; the iterator ends after them.
          returnHeld();
          slots.release();
          continue;
        }
        held = undefined;
        const run = dispatch(this.#raw(m), context, anyMessageHandler(handler), drain.signal).finally(() => {
          running.delete(run);
          slots.release();
        });
        running.add(run);
      }
    })().catch((err: unknown) => this.#logger.error('consumer loop ended', { durable: resolved.durable, err }));

    const advisory = this.#nc.subscribe(
      `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.#stream}.${resolved.durable}`,
      {
        callback: (err, msg) => {
          if (err) return;
          void this.#deadLetterFromAdvisory(msg.json<{ stream_seq: number; deliveries: number }>(), resolved.durable);
        },
      },
    );

    let stopping: Promise<void> | undefined;
    const subscription: Subscription = {
      stop: (graceMs?: number) => {
        stopping ??= (async () => {
          stopped = true;
          this.#subscriptions.delete(subscription);
          advisory.unsubscribe();
          returnHeld();
          // The iterator closes once the loop takes its next message, i.e. once a slot is free.
          const closed = Promise.all([messages.close(), loop]);
          await drainDeliveries(running, drain, graceMs);
          // Past the grace every delivery is returned; a handler that ignores its signal keeps
          // its slot, so the loop gets a second to end and is then left to the process exit.
          if (drain.signal.aborted)
            await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
          else await closed;
        })();
        return stopping;
      },
      [Symbol.asyncDispose]: () => subscription.stop(),
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  #raw(m: JsMsg): RawDelivery {
    return {
      subject: m.subject,
      body: m.data,
      headers: toRecord(m.headers),
      deliveryCount: m.info.deliveryCount,
      sequence: m.info.streamSequence,
      id: m.headers?.get('Nats-Msg-Id') || undefined,
      ack: async () => {
        // Acking twice is harmless, so an ack lost in a reconnect is sent again.
        for (let attempt = 1; ; attempt++) {
          try {
            if (await m.ackAck({ timeout: 1000 })) return;
            throw new NotReadyError('the server did not confirm the ack');
          } catch (err) {
            if (attempt >= 3 || this.#nc.isClosed()) throw err;
          }
        }
      },
      nak: (delayMs) => m.nak(delayMs),
      term: () => m.term(),
      working: () => m.working(),
    };
  }

  async #deadLetterFromAdvisory(advisory: { stream_seq: number; deliveries: number }, durable: string): Promise<void> {
    try {
      const stored = await this.#jsm.streams.getMessage(this.#stream, { seq: advisory.stream_seq });
      if (!stored) return;
      const headers = toRecord(stored.header);
      await publishDeadLetter(
        this.#publishRaw,
        {
          subject: stored.subject,
          id: headers['Nats-Msg-Id'] ?? '',
          body: stored.data,
          headers,
          deliveryCount: advisory.deliveries,
        },
        durable,
        `max deliveries reached (${advisory.deliveries}); ack wait expired`,
      );
    } catch (err) {
      this.#logger.error('dead letter from advisory failed', { durable, seq: advisory.stream_seq, err });
    }
  }

  async request(subject: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    this.#checkOpen();
    checkRequestSubject(subject);
    const timeoutMs = options.timeoutMs ?? 5000;
    const headers: Record<string, string> = {};
    let reply;
    try {
      reply = await withPublishSpan('nats', subject, randomUUID(), headers, () =>
        this.#nc.request(subject, JSON.stringify(payload ?? null), { timeout: timeoutMs, headers: toHeaders(headers) }),
      );
    } catch (err) {
      if (err instanceof NoRespondersError || (err as { cause?: unknown }).cause instanceof NoRespondersError) {
        throw new NotReadyError(`no responder on ${subject}`, { cause: err });
      }
      if (err instanceof TimeoutError || (err as { cause?: unknown }).cause instanceof TimeoutError) {
        throw new KzrError(ErrorKind.Deadline, `request on ${subject} timed out after ${timeoutMs} ms`, { cause: err });
      }
      throw err;
    }
    const body = reply.json<Reply>();
    if (body.error) {
      const kind = (Object.values(ErrorKind) as string[]).includes(body.error.kind)
        ? (body.error.kind as ErrorKind)
        : ErrorKind.Internal;
      throw new KzrError(kind, body.error.message, { field: body.error.field });
    }
    return body.ok ?? null;
  }

  async respond(subject: string, handler: RequestHandler): Promise<Subscription> {
    this.#checkOpen();
    checkRequestSubject(subject);
    const sub: NatsSubscription = this.#nc.subscribe(subject, {
      queue: 'kzr',
      callback: (err, msg) => {
        if (err) return;
        void (async () => {
          let reply: Reply;
          try {
            reply = { ok: (await handler(msg.json(), toRecord(msg.headers))) ?? null };
          } catch (error) {
            reply = {
              error: {
                kind: error instanceof KzrError ? error.kind : ErrorKind.Internal,
                message: error instanceof Error ? error.message : String(error),
                field: error instanceof KzrError ? error.field : undefined,
              },
            };
          }
          try {
            msg.respond(JSON.stringify(reply));
          } catch (err) {
            // The connection closed while the handler ran: the requester times out.
            this.#logger.debug('reply not sent', { subject, err });
          }
        })();
      },
    });
    await this.#nc.flush();
    const subscription: Subscription = {
      stop: async () => {
        this.#subscriptions.delete(subscription);
        sub.unsubscribe();
      },
      [Symbol.asyncDispose]: () => subscription.stop(),
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#subscriptions].map((s) => s.stop()));
      if (!this.#nc.isClosed()) await this.#nc.drain().catch(() => this.#nc.close());
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.#closing || this.#nc.isClosed()) throw new NotReadyError('the bus is closed');
  }
}
