/**
 * TLS of kzr's gRPC servers and clients, from files (Kubernetes Secrets mounted as volumes, or a
 * team's own CA on one machine).
 *
 * Servers: `KZR_GRPC_TLS_CERT_FILE` and `KZR_GRPC_TLS_KEY_FILE` turn TLS on, and then the port
 * serves TLS only (a plaintext client fails its handshake); `KZR_GRPC_TLS_CLIENT_CA_FILE` also
 * requires every client to present a certificate that CA signed (mTLS). The files are read again
 * every few seconds, so a rotated certificate (cert-manager renews the Secret in place) is
 * served to new connections without a restart.
 *
 * Clients: `KZR_GRPC_TLS_CA_FILE` turns TLS on and names the CA that signed the servers'
 * certificates; the process's own `KZR_GRPC_TLS_CERT_FILE` / `KZR_GRPC_TLS_KEY_FILE`, when
 * set, are its client certificate for mTLS. `KZR_AUTH_TOKEN` (or the file
 * `KZR_AUTH_TOKEN_FILE`) is sent as `authorization: Bearer <token>` on every call.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

import * as grpc from '@grpc/grpc-js';

import { type Env, readString } from '../env.js';
import { ConfigError } from '../errors.js';

/** TLS of a gRPC server. */
export interface GrpcServerTls {
  /** PEM certificate chain (`KZR_GRPC_TLS_CERT_FILE`). */
  readonly certFile: string;
  /** PEM private key (`KZR_GRPC_TLS_KEY_FILE`). */
  readonly keyFile: string;
  /** PEM CA whose certificates clients must present (`KZR_GRPC_TLS_CLIENT_CA_FILE`); unset: no mTLS. */
  readonly clientCaFile: string | undefined;
}

/** TLS of a gRPC client. */
export interface GrpcClientTls {
  /** PEM CA the servers' certificates are checked against (`KZR_GRPC_TLS_CA_FILE`). */
  readonly caFile: string;
  /** The client certificate for mTLS (`KZR_GRPC_TLS_CERT_FILE`); unset: none. */
  readonly certFile: string | undefined;
  /** Its key (`KZR_GRPC_TLS_KEY_FILE`). */
  readonly keyFile: string | undefined;
}

/** How a kzr process calls other kzr servers. */
export interface GrpcClientConfig {
  /** TLS; unset: plaintext. */
  readonly tls: GrpcClientTls | undefined;
  /** Bearer token sent on every call (`KZR_AUTH_TOKEN`, or `KZR_AUTH_TOKEN_FILE`); unset: none. */
  readonly token: string | undefined;
}

/** A client that speaks plaintext and sends no token: the in-process loopback servers'. */
export const plaintextClient: GrpcClientConfig = Object.freeze({ tls: undefined, token: undefined });

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(variable, file, `a readable PEM file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

/** Checks that the files make a usable TLS context now, so a bad one exits 2 at start. */
function checkContext(variable: string, file: string, options: Parameters<typeof createSecureContext>[0]): void {
  try {
    createSecureContext(options);
  } catch (err) {
    throw new ConfigError(variable, file, `PEM that TLS accepts (${(err as Error).message})`);
  }
}

function pairOf(env: Env): { certFile: string; keyFile: string } | undefined {
  const certFile = readString(env, 'KZR_GRPC_TLS_CERT_FILE');
  const keyFile = readString(env, 'KZR_GRPC_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? 'KZR_GRPC_TLS_CERT_FILE' : 'KZR_GRPC_TLS_KEY_FILE';
    throw new ConfigError(missing, '', 'a file, set together with the other of KZR_GRPC_TLS_CERT_FILE/KEY_FILE');
  }
  if (certFile === undefined || keyFile === undefined) return undefined;
  checkContext('KZR_GRPC_TLS_CERT_FILE', certFile, {
    cert: readPem('KZR_GRPC_TLS_CERT_FILE', certFile),
    key: readPem('KZR_GRPC_TLS_KEY_FILE', keyFile),
  });
  return { certFile, keyFile };
}

/** Compiles a server's TLS; undefined when no certificate is configured. Throws a ConfigError naming the variable. */
export function compileGrpcServerTls(env: Env): GrpcServerTls | undefined {
  const pair = pairOf(env);
  const clientCaFile = readString(env, 'KZR_GRPC_TLS_CLIENT_CA_FILE');
  if (pair === undefined) {
    if (clientCaFile !== undefined) {
      throw new ConfigError('KZR_GRPC_TLS_CERT_FILE', '', 'a file (KZR_GRPC_TLS_CLIENT_CA_FILE needs the server TLS)');
    }
    return undefined;
  }
  if (clientCaFile !== undefined) {
    checkContext('KZR_GRPC_TLS_CLIENT_CA_FILE', clientCaFile, {
      ca: readPem('KZR_GRPC_TLS_CLIENT_CA_FILE', clientCaFile),
    });
  }
  return Object.freeze({ ...pair, clientCaFile });
}

/** Compiles how this process calls kzr servers. Throws a ConfigError naming the variable. */
export function compileGrpcClientConfig(env: Env): GrpcClientConfig {
  const caFile = readString(env, 'KZR_GRPC_TLS_CA_FILE');
  let tls: GrpcClientTls | undefined;
  if (caFile !== undefined) {
    checkContext('KZR_GRPC_TLS_CA_FILE', caFile, { ca: readPem('KZR_GRPC_TLS_CA_FILE', caFile) });
    const pair = pairOf(env);
    tls = Object.freeze({ caFile, certFile: pair?.certFile, keyFile: pair?.keyFile });
  }
  let token = readString(env, 'KZR_AUTH_TOKEN');
  const tokenFile = readString(env, 'KZR_AUTH_TOKEN_FILE');
  if (token === undefined && tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        'KZR_AUTH_TOKEN_FILE',
        tokenFile,
        `a readable file (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    if (token === '') throw new ConfigError('KZR_AUTH_TOKEN_FILE', tokenFile, 'a file holding the token');
  }
  if (token !== undefined && /\s/.test(token)) {
    throw new ConfigError(
      tokenFile !== undefined ? 'KZR_AUTH_TOKEN_FILE' : 'KZR_AUTH_TOKEN',
      '',
      'a token without spaces',
    );
  }
  return Object.freeze({ tls, token });
}

/** How often a server reads its certificate files again. */
export const defaultCertificateRefreshMs = 5000;

/**
 * TLS server credentials over files read again every `refreshMs` while a server uses them; a
 * change is handed to the server (`setSecureContext`), so connections made after it get the new
 * certificate and open ones keep theirs. grpc-js's own certificate-provider credentials start
 * without a context (the first files arrive only after the server subscribed, and the server
 * drops connections until then), so the first context is read here before the bind.
 */
class FileServerCredentials extends grpc.ServerCredentials {
  readonly #tls: GrpcServerTls;
  readonly #refreshMs: number;
  #current: { cert: Buffer; key: Buffer; ca: Buffer | undefined };
  #timer: NodeJS.Timeout | undefined;

  constructor(tls: GrpcServerTls, refreshMs: number) {
    const mtls = tls.clientCaFile !== undefined;
    const current = FileServerCredentials.#read(tls);
    super({ requestCert: mtls, rejectUnauthorized: mtls }, current);
    this.#tls = tls;
    this.#refreshMs = refreshMs;
    this.#current = current;
  }

  static #read(tls: GrpcServerTls): { cert: Buffer; key: Buffer; ca: Buffer | undefined } {
    return {
      cert: readPem('KZR_GRPC_TLS_CERT_FILE', tls.certFile),
      key: readPem('KZR_GRPC_TLS_KEY_FILE', tls.keyFile),
      ca: tls.clientCaFile === undefined ? undefined : readPem('KZR_GRPC_TLS_CLIENT_CA_FILE', tls.clientCaFile),
    };
  }

  #refresh(): void {
    let next: { cert: Buffer; key: Buffer; ca: Buffer | undefined };
    try {
      next = FileServerCredentials.#read(this.#tls);
    } catch {
      return; // A file being replaced is briefly missing: keep the last context, read again next time.
    }
    const previous = this.#current;
    const same = (a: Buffer | undefined, b: Buffer | undefined): boolean => (a && b ? a.equals(b) : a === b);
    if (same(next.cert, previous.cert) && same(next.key, previous.key) && same(next.ca, previous.ca)) return;
    this.#current = next;
    // A certificate that does not match its key (one file renewed, the other not yet) is refused
    // by the server, which then drops new connections until the next read finds a matching pair.
    this.updateSecureContextOptions(next);
  }

  override _addWatcher(watcher: Parameters<grpc.ServerCredentials['_addWatcher']>[0]): void {
    super._addWatcher(watcher);
    this.#timer ??= setInterval(() => this.#refresh(), this.#refreshMs).unref();
  }

  override _removeWatcher(watcher: Parameters<grpc.ServerCredentials['_removeWatcher']>[0]): void {
    super._removeWatcher(watcher);
    if (this.getWatcherCount() === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * Server credentials: plaintext without TLS, else TLS from files read again every `refreshMs`,
 * with client certificates required when a client CA is set.
 */
export function serverCredentials(tls: GrpcServerTls | undefined, refreshMs: number): grpc.ServerCredentials {
  return tls === undefined ? grpc.ServerCredentials.createInsecure() : new FileServerCredentials(tls, refreshMs);
}

/** Channel credentials and options (the bearer token's interceptor) for a client of `config`. */
export function clientCredentials(config: GrpcClientConfig): {
  credentials: grpc.ChannelCredentials;
  options: grpc.ClientOptions;
} {
  const { tls, token } = config;
  const credentials =
    tls === undefined
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl(
          readPem('KZR_GRPC_TLS_CA_FILE', tls.caFile),
          tls.keyFile === undefined ? null : readPem('KZR_GRPC_TLS_KEY_FILE', tls.keyFile),
          tls.certFile === undefined ? null : readPem('KZR_GRPC_TLS_CERT_FILE', tls.certFile),
        );
  if (token === undefined) return { credentials, options: {} };
  // An interceptor rather than call credentials: grpc-js refuses call credentials on a
  // plaintext channel, and a loopback server with tokens but no TLS is a valid set-up.
  const bearer: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
  return { credentials, options: { interceptors: [bearer] } };
}
