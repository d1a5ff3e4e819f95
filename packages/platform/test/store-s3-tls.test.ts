/**
 * The Store contract against the S3 server behind TLS, trusted through a test CA
 * (`KZR_S3_CA_FILE`), with the keys read from files (`KZR_S3_ACCESS_KEY_FILE`,
 * `KZR_S3_SECRET_KEY_FILE`) as a mounted Secret gives them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { S3Server, TestPki } from '@kzr/testkit';

import { storeContract } from './contracts/store-contract.js';
import { compileAdapterConfig, ConfigError, openStore, type S3Store, type StoreConfig } from '../src/index.js';

let pki: TestPki;
let server: S3Server;
let config: Extract<StoreConfig, { kind: 's3' }>;

before(async () => {
  pki = await TestPki.create();
  server = await S3Server.start({ buckets: [], tls: await pki.issue('s3') });
  const accessKeyFile = join(pki.dir, 'access-key');
  const secretKeyFile = join(pki.dir, 'secret-key');
  await writeFile(accessKeyFile, `${S3Server.accessKey}\n`);
  await writeFile(secretKeyFile, `${S3Server.secretKey}\n`);
  const compiled = compileAdapterConfig(
    {
      KZR_STORE: 's3',
      KZR_S3_ENDPOINT: server.endpoint,
      KZR_S3_ACCESS_KEY_FILE: accessKeyFile,
      KZR_S3_SECRET_KEY_FILE: secretKeyFile,
      KZR_S3_CA_FILE: pki.caFile,
      KZR_S3_PART_SIZE_MB: '5',
    },
    pki.dir,
  );
  assert.equal(compiled.store.kind, 's3');
  config = compiled.store as typeof config;
});
after(async () => {
  await server?.cleanup();
  await pki?.cleanup();
});

describe('S3 behind TLS', () => {
  it('reads the keys from files and the CA from KZR_S3_CA_FILE', () => {
    assert.equal(config.accessKey, S3Server.accessKey);
    assert.equal(config.secretKey, S3Server.secretKey);
    assert.equal(config.caFile, pki.caFile);
    assert.ok(server.endpoint.startsWith('https://'));
  });

  it('refuses a server whose certificate the client does not trust', async () => {
    await assert.rejects(openStore({ ...config, caFile: undefined, bucket: 'untrusted' }), /certificate/i);
  });

  it('refuses a CA with an http endpoint, naming the variable', () => {
    assert.throws(
      () =>
        compileAdapterConfig(
          {
            KZR_STORE: 's3',
            KZR_S3_ENDPOINT: 'http://127.0.0.1:9000',
            AWS_ACCESS_KEY_ID: 'a',
            AWS_SECRET_ACCESS_KEY: 'b',
            KZR_S3_CA_FILE: pki.caFile,
          },
          pki.dir,
        ),
      (err: unknown) => err instanceof ConfigError && err.variable === 'KZR_S3_CA_FILE',
    );
  });
});

storeContract('S3 behind TLS with a test CA', {
  // A fresh bucket per test: the store creates it.
  open: () => openStore({ ...config, bucket: `t-${randomUUID().slice(0, 8)}` }),
  corrupt: async (store, key, bytes) => {
    const { client, bucket } = (store as S3Store).raw;
    const info = await store.stat(key);
    await client.putObject(bucket, key, Buffer.from(bytes), bytes.length, {
      ...info.metadata,
      'kzr-sha256': info.sha256,
    });
  },
  leftovers: async (store) => {
    const { client, bucket } = (store as S3Store).raw;
    const temporary: string[] = [];
    for await (const item of client.listObjectsV2(bucket, '.kzr-tmp/', true))
      temporary.push(String((item as { name?: string }).name));
    return [...temporary, ...(await server.openUploads(bucket)).map((id) => `upload ${id}`)];
  },
});
