import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { checkHealth } from '@kzr/testkit';
import { createLogger, GrpcServer } from '@kzr/platform';

import { runKzr, tempDir } from './kzr-cli.js';

describe('kzr auth token', () => {
  it('makes a token whose printed entry lets it in with its role', async (t) => {
    const dir = await tempDir(t);
    const made = await runKzr(['auth', 'token', '--name', 'ci', '--role', 'read']);
    assert.equal(made.code, 0, made.stderr);
    const { token, entry } = JSON.parse(made.stdout) as { token: string; entry: { sha256: string; role: string } };
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(entry.role, 'read');
    const tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [entry] }));
    await using server = await GrpcServer.start({
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 1024 * 1024,
      services: [],
      reflectionProtoFiles: [],
      protoIncludeDirs: [],
      authTokensFile: tokensFile,
      logger: createLogger({ write: () => {} }),
    });
    assert.equal(await checkHealth(server.endpoint, '', 5000, { tls: undefined, token }), 'SERVING');
    await assert.rejects(checkHealth(server.endpoint, '', 5000, { tls: undefined, token: 'other' }));
  });

  it('hashes an existing token from a file, and refuses an unknown role with exit 2', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'token'), 'kept-secret\n');
    const hashed = await runKzr([
      'auth',
      'token',
      '--name',
      'ci',
      '--role',
      'admin',
      '--token-file',
      join(dir, 'token'),
    ]);
    assert.equal(hashed.code, 0, hashed.stderr);
    const { token, entry } = JSON.parse(hashed.stdout) as { token: string; entry: { sha256: string } };
    assert.equal(token, 'kept-secret');
    assert.equal(entry.sha256, createHash('sha256').update('kept-secret').digest('hex'));
    const refused = await runKzr(['auth', 'token', '--name', 'ci', '--role', 'root']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^kzr: --role: expected one of read, infer, train, admin/m);
  });
});
