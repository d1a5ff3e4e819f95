import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  compileServerConfig,
  compileServiceConfig,
  ConfigError,
  platformEnvNames,
  readBool,
  readBytes,
  unknownEnvNames,
} from '../src/index.js';

describe('config', () => {
  it('applies the documented defaults when nothing is set', () => {
    assert.deepEqual(compileServerConfig({}), {
      grpcHost: '127.0.0.1',
      maxMessageBytes: 64 * 1024 * 1024,
      shutdownGraceMs: 10_000,
      logLevel: 'info',
      grpcTls: undefined,
      authTokensFile: undefined,
      grpcClient: { tls: undefined, token: undefined },
    });
    assert.equal(compileServiceConfig({}, 50052).grpcPort, 50052);
    assert.equal(compileServiceConfig({}, 50052).healthPort, undefined);
  });

  it('reads the health-only port and rejects one out of range', () => {
    assert.equal(compileServiceConfig({ KZR_HEALTH_PORT: '8081' }, 1).healthPort, 8081);
    assert.throws(() => compileServiceConfig({ KZR_HEALTH_PORT: '-1' }, 1), /KZR_HEALTH_PORT="-1" is invalid/);
  });

  it("names the KZR_ variables set that neither the platform nor the service reads, and nothing else's", () => {
    const env = {
      KZR_S3_ENDPONT: 'http://minio:9000',
      KZR_STORE: 's3',
      KZR_HEALTH_PORT: '8081',
      KZR_PREPROCESS_THREADS: '2',
      KZR_ZZZ: '',
      PATH: '/usr/bin',
      kzr_lower: 'x',
    };
    assert.deepEqual(unknownEnvNames(env, ['KZR_PREPROCESS_THREADS']), ['KZR_S3_ENDPONT', 'KZR_ZZZ']);
    assert.ok(platformEnvNames.includes('KZR_NATS_URL'));
  });

  it('reads sizes with binary suffixes and treats blank as unset', () => {
    assert.equal(readBytes({ X: '8MiB' }, 'X', 0, 2 ** 40), 8 * 1024 * 1024);
    assert.equal(readBytes({ X: '  ' }, 'X', 0, 10), undefined);
    assert.equal(readBool({ X: 'Yes' }, 'X'), true);
  });

  it('rejects an invalid value naming the variable and what it expects', () => {
    assert.throws(
      () => compileServerConfig({ KZR_SHUTDOWN_GRACE_MS: '5s' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.variable === 'KZR_SHUTDOWN_GRACE_MS' &&
        /an integer in \[0, 3600000\]/.test(err.message),
    );
    assert.throws(() => compileServiceConfig({ KZR_GRPC_PORT: '70000' }, 1), /KZR_GRPC_PORT="70000" is invalid/);
    assert.throws(() => compileServerConfig({ KZR_LOG_LEVEL: 'loud' }), /one of debug, info, warn, error/);
  });

  it('returns a frozen config', () => {
    assert.ok(Object.isFrozen(compileServerConfig({})));
  });
});
