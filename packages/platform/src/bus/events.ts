/**
 * The event catalogue: which protobuf message each subject carries, and the wire form.
 *
 * On the wire an event is the proto3 JSON of its message (UTF-8). Its `meta` is the envelope:
 * `meta.id` (also the JetStream message id), `meta.schemaVersion`, `meta.publishedAt` and
 * `meta.source`. Both directions are checked strictly against the message type of the subject:
 * unknown fields, wrong types and a missing or unsupported schema version are a
 * {@link ValidationError}.
 */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import {
  CropsReady,
  FilterPublished,
  ModelsPublished,
  PagesIngested,
  PhaseCompleted,
  PhaseFailed,
  PhaseStarted,
  TrainingRequested,
  type EventMeta,
} from '@kzr/api/kzr/v1/events';

import { ValidationError } from '../errors.js';
import { ProtoJsonChecker } from './proto-json.js';

/** Subjects of the kzr events (JetStream stream `KZR`). */
export const EventSubject = {
  PagesIngested: 'kzr.pages.ingested',
  CropsReady: 'kzr.crops.ready',
  TrainingRequested: 'kzr.training.requested',
  PhaseStarted: 'kzr.phase.started',
  PhaseCompleted: 'kzr.phase.completed',
  PhaseFailed: 'kzr.phase.failed',
  ModelsPublished: 'kzr.models.published',
  FilterPublished: 'kzr.filter.published',
} as const;
export type EventSubject = (typeof EventSubject)[keyof typeof EventSubject];

/** The message type each subject carries. */
export interface EventMap {
  'kzr.pages.ingested': PagesIngested;
  'kzr.crops.ready': CropsReady;
  'kzr.training.requested': TrainingRequested;
  'kzr.phase.started': PhaseStarted;
  'kzr.phase.completed': PhaseCompleted;
  'kzr.phase.failed': PhaseFailed;
  'kzr.models.published': ModelsPublished;
  'kzr.filter.published': FilterPublished;
}

/** Any kzr event message. */
export type KzrEvent = EventMap[EventSubject];

/** Schema version this code writes and reads (EventMeta.schema_version). */
export const eventSchemaVersion = 1;

/** Prefix of the dead-letter subjects: `kzr.dlq.<original subject>`. */
export const deadLetterPrefix = 'kzr.dlq.';

/** What the Bus republishes to `kzr.dlq.<subject>` after the last allowed delivery. */
export interface DeadLetter {
  /** Subject the message was published on: an event subject, unless it was invalid. */
  readonly subject: string;
  /** Id of the event. */
  readonly id: string;
  /** Why it was given up: the handler's error or `max deliveries reached`. */
  readonly reason: string;
  /** How often it was delivered. */
  readonly deliveryCount: number;
  /** Durable consumer that gave it up. */
  readonly consumer: string;
  /** The event as published (proto3 JSON). */
  readonly event: unknown;
}

interface Codec<T> {
  readonly typeName: string;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
}

const codecs: { [S in EventSubject]: Codec<EventMap[S]> } = {
  'kzr.pages.ingested': { typeName: 'PagesIngested', ...PagesIngested },
  'kzr.crops.ready': { typeName: 'CropsReady', ...CropsReady },
  'kzr.training.requested': { typeName: 'TrainingRequested', ...TrainingRequested },
  'kzr.phase.started': { typeName: 'PhaseStarted', ...PhaseStarted },
  'kzr.phase.completed': { typeName: 'PhaseCompleted', ...PhaseCompleted },
  'kzr.phase.failed': { typeName: 'PhaseFailed', ...PhaseFailed },
  'kzr.models.published': { typeName: 'ModelsPublished', ...ModelsPublished },
  'kzr.filter.published': { typeName: 'FilterPublished', ...FilterPublished },
};

let checker: ProtoJsonChecker | undefined;
function getChecker(): ProtoJsonChecker {
  checker ??= new ProtoJsonChecker([kzrProtoFiles.events], protoRoot, 'kzr.v1');
  return checker;
}

/** True when `subject` is one of the event subjects. */
export function isEventSubject(subject: string): subject is EventSubject {
  return Object.hasOwn(codecs, subject);
}

/** True when `subject` is a dead-letter subject (`kzr.dlq.<event subject>`). */
export function isDeadLetterSubject(subject: string): boolean {
  return subject.startsWith(deadLetterPrefix) && isEventSubject(subject.slice(deadLetterPrefix.length));
}

/** The dead-letter subject of an event subject (or of any subject under `kzr.`). */
export function deadLetterSubject<S extends string>(subject: S): `kzr.dlq.${S}` {
  return `${deadLetterPrefix}${subject}`;
}

function codecOf(subject: string): Codec<KzrEvent> {
  if (!isEventSubject(subject)) {
    throw new ValidationError(
      'subject',
      `${JSON.stringify(subject)} is not an event subject (${Object.values(EventSubject).join(', ')})`,
    );
  }
  return codecs[subject] as Codec<KzrEvent>;
}

/** Envelope fields the publisher fills in when the event does not carry them. */
export interface EnvelopeDefaults {
  readonly id: string;
  readonly source: string;
  readonly now: Date;
}

/**
 * Checks an event for `subject` and returns its wire bytes and id. The event's `meta` is
 * completed from `defaults`; a `meta.id` that differs from `defaults.id` is rejected.
 */
export function encodeEvent(
  subject: string,
  event: unknown,
  defaults: EnvelopeDefaults,
): { id: string; body: Uint8Array; json: unknown } {
  const codec = codecOf(subject);
  getChecker().check(codec.typeName, event, 'event');
  const message = codec.fromJSON(event) as KzrEvent;
  const given: Partial<EventMeta> = message.meta ?? {};
  if (given.id && given.id !== defaults.id) {
    throw new ValidationError(
      'event.meta.id',
      `${JSON.stringify(given.id)} differs from the publish id ${JSON.stringify(defaults.id)}`,
    );
  }
  if (given.schemaVersion && given.schemaVersion !== eventSchemaVersion) {
    throw new ValidationError(
      'event.meta.schemaVersion',
      `version ${given.schemaVersion} is not supported (expected ${eventSchemaVersion})`,
    );
  }
  if (!defaults.id) throw new ValidationError('id', 'an event id must not be empty');
  message.meta = {
    id: defaults.id,
    schemaVersion: eventSchemaVersion,
    publishedAt: given.publishedAt || defaults.now.toISOString(),
    source: given.source || defaults.source,
  };
  const json = codec.toJSON(message);
  return { id: defaults.id, body: new TextEncoder().encode(JSON.stringify(json)), json };
}

/** Parses and checks wire bytes received on `subject`; returns the typed message. */
export function decodeEvent(subject: string, body: Uint8Array): KzrEvent {
  const codec = codecOf(subject);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw new ValidationError('event', 'not UTF-8 JSON', { cause: err });
  }
  getChecker().check(codec.typeName, json, 'event');
  const message = codec.fromJSON(json);
  if (!message.meta?.id) throw new ValidationError('event.meta.id', 'missing');
  if (message.meta.schemaVersion !== eventSchemaVersion) {
    throw new ValidationError(
      'event.meta.schemaVersion',
      `version ${message.meta.schemaVersion} is not supported (expected ${eventSchemaVersion})`,
    );
  }
  return message;
}

/** Encodes a dead letter (plain JSON; the original event is kept as published). */
export function encodeDeadLetter(letter: DeadLetter): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(letter));
}

/** Parses a dead letter received on a `kzr.dlq.` subject. */
export function decodeDeadLetter(body: Uint8Array): DeadLetter {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw new ValidationError('deadLetter', 'not UTF-8 JSON', { cause: err });
  }
  const letter = value as Partial<DeadLetter>;
  for (const key of ['subject', 'id', 'reason', 'consumer'] as const) {
    if (typeof letter[key] !== 'string') throw new ValidationError(`deadLetter.${key}`, 'expected a string');
  }
  if (typeof letter.deliveryCount !== 'number')
    throw new ValidationError('deadLetter.deliveryCount', 'expected a number');
  return letter as DeadLetter;
}
