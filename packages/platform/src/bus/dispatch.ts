/**
 * What both Bus implementations do with one delivery: check it against its schema, run the
 * handler in a consumer span, and settle it (ack, nak with backoff, or dead-letter and term);
 * the dead-letter publishing of every give-up path; and the request-subject check both share.
 */
import { randomUUID } from 'node:crypto';

import { KzrError } from '@kzr/core';

import { NotReadyError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type DeadLetter,
  decodeDeadLetter,
  decodeEvent,
  deadLetterPrefix,
  deadLetterSubject,
  encodeDeadLetter,
  type EventSubject,
  isDeadLetterSubject,
} from './events.js';
import { recordProcessed, withProcessSpan } from './tracing.js';
import type { BusMessage, ConsumerOptions, MessageFor, MessageHandler, RawPublish } from './types.js';

/** One delivery as an implementation sees it. */
export interface RawDelivery {
  readonly subject: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly deliveryCount: number;
  readonly sequence: number;
  /** Message id from the transport, when it has one. */
  readonly id: string | undefined;
  ack(): Promise<void>;
  nak(delayMs: number): void;
  term(): void;
  working(): void;
}

/** The consumer's settings with defaults applied. */
export interface ResolvedConsumerOptions {
  readonly durable: string;
  readonly filterSubject: string;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxInFlight: number;
  readonly retryDelaysMs: readonly number[];
}

/** Applies the documented defaults and checks ranges. */
export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  const resolved = {
    durable: options.durable,
    filterSubject: options.filterSubject,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxDeliver: options.maxDeliver ?? 5,
    maxInFlight: options.maxInFlight ?? 1,
    retryDelaysMs: options.retryDelaysMs ?? [1000, 10_000, 60_000],
  };
  if (!/^[A-Za-z0-9_-]+$/.test(resolved.durable)) {
    throw new ValidationError('durable', `${JSON.stringify(resolved.durable)} must be letters, digits, _ or -`);
  }
  if (!/^kzr\.[A-Za-z0-9_.*>-]+$/.test(resolved.filterSubject)) {
    throw new ValidationError('filterSubject', `${JSON.stringify(resolved.filterSubject)} must be under kzr.`);
  }
  for (const [key, value, min] of [
    ['ackWaitMs', resolved.ackWaitMs, 1],
    ['maxDeliver', resolved.maxDeliver, 1],
    ['maxInFlight', resolved.maxInFlight, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new ValidationError(key, `expected an integer >= ${min}, got ${value}`);
    }
  }
  if (resolved.retryDelaysMs.length === 0 || resolved.retryDelaysMs.some((d) => !(d >= 0))) {
    throw new ValidationError('retryDelaysMs', 'expected a non-empty list of delays >= 0');
  }
  return resolved;
}

/**
 * The handler as dispatch calls it. Sound because an implementation only delivers messages on
 * subjects its filter matches (`subjectMatches`) and dispatch hands a handler only a checked
 * event of its subject or a dead letter, which is what {@link MessageFor} lists.
 */
export function anyMessageHandler<F extends string>(handler: MessageHandler<MessageFor<F>>): MessageHandler {
  return handler as MessageHandler;
}

/** What dispatch needs from the implementation. */
export interface DispatchContext {
  readonly system: string;
  readonly options: ResolvedConsumerOptions;
  readonly logger: Logger;
  /** The implementation's raw publish, for dead letters. */
  readonly publishRaw: RawPublish;
}

/** A message as it is given up: the stored bytes and how often they were delivered. */
export interface GivenUpMessage {
  readonly subject: string;
  /** Event id; empty when unknown (the letter then gets a fresh id). */
  readonly id: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly deliveryCount: number;
}

/** The body as a dead letter keeps it: its JSON when it parses (the usual case), else its text. */
function payloadOf(body: Uint8Array): unknown {
  const text = new TextDecoder().decode(body);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Republishes a message that `consumer` gave up to `kzr.dlq.<subject>` with `reason`, on every
 * path that gives one up (a permanent failure, the last nak, an invalid message, the last ack
 * wait expiring). The letter's id is `dlq:<consumer>:<event id>`, so two give-ups of the same
 * delivery (a last nak racing the expiry of its ack wait) store one letter.
 */
export async function publishDeadLetter(
  publishRaw: RawPublish,
  message: GivenUpMessage,
  consumer: string,
  reason: string,
): Promise<void> {
  const letter: DeadLetter = {
    subject: message.subject,
    id: message.id,
    reason,
    deliveryCount: message.deliveryCount,
    consumer,
    event: payloadOf(message.body),
  };
  // The original's message id would make the stream drop the letter as its duplicate.
  const { 'Nats-Msg-Id': _id, ...headers } = message.headers;
  await publishRaw(
    deadLetterSubject(message.subject),
    encodeDeadLetter(letter),
    `dlq:${consumer}:${message.id || randomUUID()}`,
    headers,
  );
}

/** A kzr error says whether a retry may help; anything else (a bug, a driver failure) is retried until `maxDeliver`. */
function isRetryable(err: unknown): boolean {
  return err instanceof KzrError ? err.retryable : true;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Runs `handler` for one delivery and settles it. Never throws. When `drain` aborts (the
 * subscriber's grace ran out) before the delivery settled, it is returned at once (nak with the
 * first retry delay) and the message's `signal` tells the handler to stop.
 */
export async function dispatch(
  raw: RawDelivery,
  ctx: DispatchContext,
  handler: MessageHandler,
  drain: AbortSignal = new AbortController().signal,
): Promise<void> {
  const { options, logger } = ctx;
  let settled = false;
  let outcome = 'ack';
  const startedMs = performance.now();
  let id = raw.id ?? '';

  const toDeadLetter = async (reason: string): Promise<void> => {
    outcome = 'dead_letter';
    // A dead letter is never dead-lettered again (that would loop on a consumer of `kzr.>`).
    if (raw.subject.startsWith(deadLetterPrefix)) {
      raw.term();
      return;
    }
    try {
      await publishDeadLetter(ctx.publishRaw, { ...raw, id }, options.durable, reason);
      raw.term();
    } catch (err) {
      // Not stored anywhere yet: keep the message and try again later.
      logger.error('dead letter could not be published; message kept', { subject: raw.subject, id, err });
      raw.nak(options.retryDelaysMs.at(-1) ?? 1000);
    }
  };

  const retryDelay = (): number =>
    options.retryDelaysMs[Math.min(raw.deliveryCount - 1, options.retryDelaysMs.length - 1)] ?? 0;

  const base = {
    subject: raw.subject,
    deliveryCount: raw.deliveryCount,
    sequence: raw.sequence,
    headers: raw.headers,
    ack: async (): Promise<void> => {
      if (settled) return;
      settled = true;
      await raw.ack();
    },
    nak: async (delayMs?: number): Promise<void> => {
      if (settled) return;
      settled = true;
      if (raw.deliveryCount >= options.maxDeliver) {
        await toDeadLetter(`max deliveries reached (${options.maxDeliver}); last nak`);
      } else {
        outcome = 'nak';
        raw.nak(delayMs ?? retryDelay());
      }
    },
    term: async (reason: string): Promise<void> => {
      if (settled) return;
      settled = true;
      await toDeadLetter(reason);
    },
    working: (): void => raw.working(),
    signal: drain,
  };

  let message: BusMessage;
  try {
    if (isDeadLetterSubject(raw.subject)) {
      const deadLetter = decodeDeadLetter(raw.body);
      id ||= `${deadLetter.consumer}:${deadLetter.id}`;
      message = { ...base, id, kind: 'dead-letter', deadLetter };
    } else {
      const event = decodeEvent(raw.subject, raw.body);
      id ||= event.meta?.id ?? '';
      // decodeEvent checked the event against the message type of its subject.
      message = { ...base, id, kind: 'event', subject: raw.subject as EventSubject, event } as BusMessage;
    }
  } catch (err) {
    logger.warn('invalid message on the bus; dead-lettered', { subject: raw.subject, id, err });
    settled = true;
    await toDeadLetter(`invalid message: ${reasonOf(err)}`);
    recordProcessed(ctx.system, raw.subject, options.durable, 'invalid', performance.now() - startedMs);
    return;
  }

  const returnOnDrain = (): void => {
    if (settled) return;
    logger.info('delivery returned: the subscriber drains', { subject: raw.subject, id, durable: options.durable });
    void message.nak(options.retryDelaysMs[0]);
  };
  drain.addEventListener('abort', returnOnDrain, { once: true });
  try {
    await withProcessSpan(ctx.system, raw.subject, id, options.durable, raw.deliveryCount, raw.headers, () =>
      handler(message),
    );
    if (!settled) await message.ack();
  } catch (err) {
    if (settled) {
      if (!drain.aborted) logger.warn('handler failed after settling its message', { subject: raw.subject, id, err });
      return;
    }
    if (isRetryable(err)) {
      logger.warn('handler failed; will retry', { subject: raw.subject, id, delivery: raw.deliveryCount, err });
      await message.nak();
    } else {
      logger.warn('handler failed permanently; dead-lettered', { subject: raw.subject, id, err });
      await message.term(reasonOf(err));
    }
  } finally {
    drain.removeEventListener('abort', returnOnDrain);
    recordProcessed(ctx.system, raw.subject, options.durable, outcome, performance.now() - startedMs);
  }
}

/**
 * Waits for a subscriber's running deliveries; without `graceMs` as long as they run, with it at
 * most that long, then aborts `drain` (which returns the unsettled ones, see {@link dispatch}).
 */
export async function drainDeliveries(
  running: Iterable<Promise<void>>,
  drain: AbortController,
  graceMs: number | undefined,
): Promise<void> {
  const all = Promise.allSettled([...running]);
  if (graceMs === undefined) {
    await all;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = await Promise.race([
    all.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (expired) drain.abort(new NotReadyError('the subscriber drains'));
}

/** True when the NATS-style `filter` (tokens, `*`, trailing `>`) matches `subject`. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** A counting semaphore for bounded in-flight work. */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Resolves when a slot is free (and takes it). */
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Frees a slot. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Request subjects must stay out of the event stream's `kzr.>` space. */
export function checkRequestSubject(subject: string): void {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subject) || subject.startsWith('kzr.')) {
    throw new ValidationError(
      'subject',
      `${JSON.stringify(subject)} is not a request subject (dotted tokens, outside kzr.>)`,
    );
  }
}
