/**
 * Authentication and roles of the gRPC servers. A caller proves who it is with a bearer token
 * (`authorization: Bearer <token>` metadata) or, with mTLS, its client certificate; the access
 * file (`KZR_AUTH_TOKENS_FILE`) maps the sha256 of each token, and each certificate subject, to
 * a {@link Role}. One server interceptor checks every call against {@link requiredRole}:
 * UNAUTHENTICATED without credentials (or with a token the file does not list),
 * PERMISSION_DENIED with too small a role. The file is read again when it changes, so tokens
 * are added and revoked without a restart.
 *
 * The access file (JSON):
 * ```json
 * {
 *   "tokens": [{ "name": "ci", "sha256": "<64 hex digits>", "role": "train" }],
 *   "subjects": [{ "subject": "CN=kzr-inference,O=kzr", "role": "infer" }]
 * }
 * ```
 * A subject matches a certificate whose subject has exactly these attributes (in any order).
 * Tokens are random secrets (`kzr token` makes one), so one sha256 is enough to store them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, type StatsListener, type StatWatcher, unwatchFile, watchFile } from 'node:fs';
import type { PeerCertificate } from 'node:tls';

import * as grpc from '@grpc/grpc-js';

import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { requiredRole, Role, roleIncludes, roleOrder } from './roles.js';

/** The variable naming the access file. */
export const accessFileVariable = 'KZR_AUTH_TOKENS_FILE';

/** One identity of the access file. */
interface Grant {
  /** How logs name the caller: the token's `name`, or the subject. */
  readonly name: string;
  readonly role: Role;
}

/** The parsed access file. */
interface AccessEntries {
  /** Grants by the sha256 of the token. */
  readonly tokens: ReadonlyMap<string, Grant>;
  /** Grants by the normalised subject (see {@link normaliseSubject}). */
  readonly subjects: ReadonlyMap<string, Grant>;
}

/** The sha256 of a token, in hex: what the access file stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** `CN=a,O=b` and the certificate's `{ O: 'b', CN: 'a' }` to one comparable form. */
function normaliseSubject(attributes: ReadonlyArray<readonly [string, string]>): string {
  return attributes
    .map(([key, value]) => `${key.trim().toUpperCase()}=${value.trim()}`)
    .sort()
    .join(',');
}

function subjectOfText(text: string): string | undefined {
  const pairs = text.split(',').map((part) => {
    const at = part.indexOf('=');
    return at > 0 ? ([part.slice(0, at), part.slice(at + 1)] as const) : undefined;
  });
  return pairs.every((p) => p !== undefined) && pairs.length > 0 ? normaliseSubject(pairs) : undefined;
}

function subjectOfCertificate(certificate: PeerCertificate): string {
  const attributes = Object.entries(certificate.subject as unknown as Record<string, string | string[]>).flatMap(
    ([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => [key, v] as const),
  );
  return normaliseSubject(attributes);
}

/** Parses the access file's text; throws a ConfigError naming the file and the bad entry. */
export function parseAccessFile(text: string, file: string): AccessEntries {
  const bad = (what: string): ConfigError =>
    new ConfigError(accessFileVariable, file, `a JSON access file (see SECURITY.md); ${what}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw bad(`it is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('it is not an object');
  const { tokens = [], subjects = [], ...rest } = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw bad(`unknown field ${unknown[0]}`);
  if (!Array.isArray(tokens)) throw bad('tokens: not a list');
  if (!Array.isArray(subjects)) throw bad('subjects: not a list');
  const roleOf = (entry: Record<string, unknown>, where: string): Role => {
    if (!roleOrder.includes(entry['role'] as Role)) throw bad(`${where}.role: one of ${roleOrder.join(', ')}`);
    return entry['role'] as Role;
  };
  const byToken = new Map<string, Grant>();
  tokens.forEach((entry: Record<string, unknown>, i) => {
    const where = `tokens[${i}]`;
    const sha256 = typeof entry?.['sha256'] === 'string' ? entry['sha256'].toLowerCase() : '';
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad(`${where}.sha256: 64 hex digits (the token's sha256)`);
    if (typeof entry['name'] !== 'string' || entry['name'] === '') throw bad(`${where}.name: a non-empty string`);
    byToken.set(sha256, { name: entry['name'], role: roleOf(entry, where) });
  });
  const bySubject = new Map<string, Grant>();
  subjects.forEach((entry: Record<string, unknown>, i) => {
    const where = `subjects[${i}]`;
    const subject = typeof entry?.['subject'] === 'string' ? subjectOfText(entry['subject']) : undefined;
    if (subject === undefined) throw bad(`${where}.subject: attributes like CN=name,O=org`);
    bySubject.set(subject, { name: entry['subject'] as string, role: roleOf(entry, where) });
  });
  return { tokens: byToken, subjects: bySubject };
}

/** Reads and parses the access file; throws a ConfigError naming the variable. */
export function readAccessFile(file: string): AccessEntries {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(accessFileVariable, file, `a readable file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return parseAccessFile(text, file);
}

/** How a server decides who may call. */
export interface AccessOptions {
  /** The access file (`KZR_AUTH_TOKENS_FILE`). */
  readonly tokensFile: string | undefined;
  /**
   * Whether clients present certificates the server verified (mTLS). Without an access file,
   * every such certificate has `admin`: the client CA is then the only authority.
   */
  readonly clientCertificates: boolean;
}

/** A refusal: the status and what the caller reads. */
interface Refusal {
  readonly code: grpc.status;
  readonly details: string;
}

/**
 * The access decisions of one server: open when neither an access file nor mTLS is configured,
 * else every call needs an identity whose role includes the method's.
 */
export class AccessControl {
  readonly #options: AccessOptions;
  readonly #logger: Logger;
  #entries: AccessEntries | undefined;
  #watcher: { file: string; listener: StatsListener } | undefined;

  constructor(options: AccessOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.#entries = options.tokensFile === undefined ? undefined : readAccessFile(options.tokensFile);
  }

  /** Whether calls need credentials at all. */
  get enabled(): boolean {
    return this.#options.tokensFile !== undefined || this.#options.clientCertificates;
  }

  /** One line for the start-up report: how callers are checked. */
  get describe(): string {
    if (!this.enabled) return 'none (open to every caller that reaches the port)';
    const parts = [
      ...(this.#options.tokensFile !== undefined ? [`tokens and subjects from ${this.#options.tokensFile}`] : []),
      ...(this.#options.clientCertificates && this.#options.tokensFile === undefined
        ? ['client certificates (admin)']
        : []),
    ];
    return parts.join(', ');
  }

  /** Reads the access file again whenever it changes, until {@link close}. */
  watch(intervalMs: number): void {
    const file = this.#options.tokensFile;
    if (file === undefined || this.#watcher) return;
    const listener: StatsListener = () => {
      try {
        this.#entries = readAccessFile(file);
        this.#logger.info('access file reloaded', { file });
      } catch (err) {
        // Keep the last good grants: a half-written file must not lock everyone out or open the server.
        this.#logger.warn('access file not reloaded; keeping the previous one', { file, err });
      }
    };
    (watchFile(file, { interval: intervalMs, persistent: false }, listener) as StatWatcher).unref();
    this.#watcher = { file, listener };
  }

  /** Stops watching the access file. */
  close(): void {
    if (this.#watcher) unwatchFile(this.#watcher.file, this.#watcher.listener);
    this.#watcher = undefined;
  }

  /** Who the caller is, or why it is not known. */
  #identify(metadata: grpc.Metadata, certificate: PeerCertificate | undefined): Grant | Refusal {
    const [header] = metadata.get('authorization');
    if (typeof header === 'string' && header !== '') {
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const grant = token === undefined ? undefined : this.#grantOfToken(token);
      return grant ?? { code: grpc.status.UNAUTHENTICATED, details: 'the bearer token is not valid' };
    }
    if (certificate?.subject !== undefined && this.#options.clientCertificates) {
      const subject = subjectOfCertificate(certificate);
      if (this.#entries === undefined) return { name: subject, role: Role.Admin };
      return (
        this.#entries.subjects.get(subject) ?? {
          code: grpc.status.PERMISSION_DENIED,
          details: `the client certificate's subject ${subject} has no role`,
        }
      );
    }
    return { code: grpc.status.UNAUTHENTICATED, details: 'credentials needed: a bearer token or a client certificate' };
  }

  #grantOfToken(token: string): Grant | undefined {
    const digest = Buffer.from(hashToken(token), 'hex');
    for (const [sha256, grant] of this.#entries?.tokens ?? []) {
      if (timingSafeEqual(digest, Buffer.from(sha256, 'hex'))) return grant;
    }
    return undefined;
  }

  /** Undefined when the call may go ahead, else the refusal to answer. */
  check(path: string, metadata: grpc.Metadata, certificate: PeerCertificate | undefined): Refusal | undefined {
    if (!this.enabled) return undefined;
    const identity = this.#identify(metadata, certificate);
    if ('code' in identity) return identity;
    const needed = requiredRole(path);
    if (roleIncludes(identity.role, needed)) return undefined;
    return {
      code: grpc.status.PERMISSION_DENIED,
      details: `${path} needs the ${needed} role; ${identity.name} has ${identity.role}`,
    };
  }

  /** The server interceptor that checks each call before its handler sees it. */
  interceptor(): grpc.ServerInterceptor {
    return (method, call) => {
      const listener = new grpc.ServerListenerBuilder()
        .withOnReceiveMetadata((metadata, next) => {
          const refusal = this.check(method.path, metadata, call.getAuthContext().sslPeerCertificate);
          if (refusal === undefined) next(metadata);
          else call.sendStatus({ ...refusal, metadata: new grpc.Metadata() });
        })
        .build();
      const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build();
      return new grpc.ServerInterceptingCall(call, responder);
    };
  }
}
