/**
 * Where `kzr start` serves the live page: `KZR_HTTP_HOST` (default `127.0.0.1`) and
 * `KZR_HTTP_PORT` (default {@link defaultLivePagePort}, `0` a free port, `off` none). Another
 * interface than loopback needs auth (`KZR_AUTH_TOKENS_FILE`) or `KZR_INSECURE=1`, as the gRPC
 * ports do.
 */
import { ConfigError, type Env, isLoopbackHost, readBool, readPort, readString } from '@kzr/platform';

/** The live page's port when `KZR_HTTP_PORT` is unset. */
export const defaultLivePagePort = 8470;

/** Where the live page listens, or undefined when it is off. */
export interface LivePageConfig {
  readonly host: string;
  readonly port: number;
}

/** Compiles the {@link LivePageConfig}; throws a ConfigError naming the first bad variable. */
export function compileLivePageConfig(env: Env): LivePageConfig | undefined {
  if (readString(env, 'KZR_HTTP_PORT')?.toLowerCase() === 'off') return undefined;
  const host = readString(env, 'KZR_HTTP_HOST') ?? '127.0.0.1';
  if (
    !isLoopbackHost(host) &&
    readString(env, 'KZR_AUTH_TOKENS_FILE') === undefined &&
    readBool(env, 'KZR_INSECURE') !== true
  ) {
    throw new ConfigError(
      'KZR_HTTP_HOST',
      host,
      'a loopback address while no auth is configured (set KZR_AUTH_TOKENS_FILE, or KZR_INSECURE=1 to serve every caller)',
    );
  }
  return Object.freeze({ host, port: readPort(env, 'KZR_HTTP_PORT', defaultLivePagePort) });
}
