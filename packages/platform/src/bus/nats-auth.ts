/**
 * How the NATS Bus proves who it is and checks the server: one of a creds file (JWT and NKey
 * seed, `KZR_NATS_CREDS_FILE`), an NKey seed file (`KZR_NATS_NKEY_SEED_FILE`), user and
 * password (`KZR_NATS_USER`, `KZR_NATS_PASSWORD`) or a token (`KZR_NATS_TOKEN`); and TLS with
 * the CA that signed the server's certificate (`KZR_NATS_CA_FILE`). Files are read again on
 * every (re)connect, so rotated credentials are used from the next connection on.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

import {
  type Authenticator,
  type ConnectionOptions,
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
} from '@nats-io/transport-node';

import { type Env, readString } from '../env.js';
import { ConfigError } from '../errors.js';

/** Which credentials the Bus presents. */
export type NatsAuth =
  | { readonly kind: 'creds'; /** `KZR_NATS_CREDS_FILE` */ readonly file: string }
  | { readonly kind: 'nkey'; /** `KZR_NATS_NKEY_SEED_FILE` */ readonly seedFile: string }
  | {
      readonly kind: 'user';
      /** `KZR_NATS_USER` */ readonly user: string;
      /** `KZR_NATS_PASSWORD` */ readonly password: string;
    }
  | { readonly kind: 'token'; /** `KZR_NATS_TOKEN` */ readonly token: string };

/** TLS to the NATS server. */
export interface NatsTls {
  /** PEM CA of the server's certificate (`KZR_NATS_CA_FILE`). */
  readonly caFile: string;
}

function readable(variable: string, file: string): string {
  try {
    readFileSync(file);
  } catch (err) {
    throw new ConfigError(variable, file, `a readable file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return file;
}

/** Compiles the Bus's credentials; undefined when none is set. Throws a ConfigError when two are. */
export function compileNatsAuth(env: Env): NatsAuth | undefined {
  const credsFile = readString(env, 'KZR_NATS_CREDS_FILE');
  const seedFile = readString(env, 'KZR_NATS_NKEY_SEED_FILE');
  const user = readString(env, 'KZR_NATS_USER');
  const password = readString(env, 'KZR_NATS_PASSWORD');
  const token = readString(env, 'KZR_NATS_TOKEN');
  const chosen = [
    credsFile && 'KZR_NATS_CREDS_FILE',
    seedFile && 'KZR_NATS_NKEY_SEED_FILE',
    user && 'KZR_NATS_USER',
    token && 'KZR_NATS_TOKEN',
  ].filter((v): v is string => typeof v === 'string');
  if (chosen.length > 1) {
    throw new ConfigError(chosen[1]!, '', `unset: ${chosen[0]} is set, and the Bus presents one kind of credentials`);
  }
  if (password !== undefined && user === undefined) {
    throw new ConfigError('KZR_NATS_USER', '', 'a user name (KZR_NATS_PASSWORD is set)');
  }
  if (credsFile !== undefined) return { kind: 'creds', file: readable('KZR_NATS_CREDS_FILE', credsFile) };
  if (seedFile !== undefined) return { kind: 'nkey', seedFile: readable('KZR_NATS_NKEY_SEED_FILE', seedFile) };
  if (user !== undefined) {
    if (password === undefined) throw new ConfigError('KZR_NATS_PASSWORD', '', 'a password (KZR_NATS_USER is set)');
    return { kind: 'user', user, password };
  }
  return token === undefined ? undefined : { kind: 'token', token };
}

/** Compiles TLS to the server; undefined when no CA is set (a `tls://` URL then uses the system CAs). */
export function compileNatsTls(env: Env): NatsTls | undefined {
  const caFile = readString(env, 'KZR_NATS_CA_FILE');
  if (caFile === undefined) return undefined;
  try {
    createSecureContext({ ca: readFileSync(readable('KZR_NATS_CA_FILE', caFile)) });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('KZR_NATS_CA_FILE', caFile, `a PEM CA certificate (${(err as Error).message})`);
  }
  return { caFile };
}

/** The connection options of `auth` and `tls` for `connect`. */
export function natsSecurityOptions(
  auth: NatsAuth | undefined,
  tls: NatsTls | undefined,
): Pick<ConnectionOptions, 'authenticator' | 'tls'> {
  let authenticator: Authenticator | undefined;
  switch (auth?.kind) {
    case 'creds':
      authenticator = credsAuthenticator(() => readFileSync(auth.file));
      break;
    case 'nkey':
      authenticator = nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(auth.seedFile, 'utf8').trim()));
      break;
    case 'user':
      authenticator = usernamePasswordAuthenticator(auth.user, auth.password);
      break;
    case 'token':
      authenticator = tokenAuthenticator(auth.token);
      break;
    case undefined:
      break;
  }
  return {
    ...(authenticator ? { authenticator } : {}),
    ...(tls ? { tls: { caFile: tls.caFile } } : {}),
  };
}
