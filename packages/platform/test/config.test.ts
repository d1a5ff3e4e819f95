import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compileServerConfig, compileServiceConfig, ConfigError, readBool, readBytes } from '../src/index.js';

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
