/**
 * Who may ask the live page for what. Every request must name this server in its `Host` (a page
 * on another site that resolves its own name to 127.0.0.1 gets nothing: DNS rebinding); a
 * request that changes state (POST) must come from this page's own origin (`Origin`, which
 * browsers always send on a POST) and carry JSON, which no cross-site form can send without a
 * preflight this server never grants. With auth on (`KZR_AUTH_TOKENS_FILE`) each route needs the
 * role of the gRPC method it stands for, from the platform's one table: the bearer token comes
 * from the `Authorization` header or the page's `kzr_token` cookie (which EventSource sends).
 */
import type { IncomingMessage } from 'node:http';

import * as grpc from '@grpc/grpc-js';
import { type AccessControl, isLoopbackHost } from '@kzr/platform';

/** A refused request: the HTTP status and the one line the caller reads. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

/** The request's bearer token as gRPC metadata: the header, else the page's cookie. */
function credentials(req: IncomingMessage): grpc.Metadata {
  const metadata = new grpc.Metadata();
  const header = req.headers.authorization;
  const cookie = /(?:^|;\s*)kzr_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  if (header !== undefined) metadata.set('authorization', header);
  else if (cookie !== undefined) metadata.set('authorization', `Bearer ${decodeURIComponent(cookie)}`);
  return metadata;
}

/** The request checks of one live page listening on `host:port`. */
export class RequestGuard {
  readonly #hosts: ReadonlySet<string> | undefined;
  readonly #access: AccessControl;

  constructor(host: string, port: number, access: AccessControl) {
    // On loopback the names it may be reached by are known; on another interface any name is.
    this.#hosts = isLoopbackHost(host)
      ? new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`])
      : undefined;
    this.#access = access;
  }

  /** Whether the page asks for a token. */
  get authEnabled(): boolean {
    return this.#access.enabled;
  }

  /**
   * Undefined when `req` may go ahead as `method` (a gRPC path whose role the route needs;
   * undefined for the page's own files), else why not.
   */
  check(req: IncomingMessage, method: string | undefined): Refusal | undefined {
    const host = req.headers.host;
    if (host === undefined || (this.#hosts !== undefined && !this.#hosts.has(host.toLowerCase()))) {
      return { status: 403, message: `host: ${host ?? '(none)'} is not this server` };
    }
    if (req.method === 'POST') {
      const origin = req.headers.origin;
      if (origin !== undefined && !sameHost(origin, host)) {
        return { status: 403, message: `origin: ${origin} may not change state here` };
      }
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        return { status: 415, message: 'content-type: expected application/json' };
      }
    }
    if (method === undefined) return undefined;
    const refused = this.#access.check(method, credentials(req), undefined);
    if (refused === undefined) return undefined;
    return {
      status: refused.code === grpc.status.UNAUTHENTICATED ? 401 : 403,
      message: `authorization: ${refused.details}`,
    };
  }
}

/** Whether `origin` (`http://host:port`) names the same host and port as the `Host` header. */
function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
