import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';

import { S3Server } from '@kzr/testkit';

import { storeContract } from './contracts/store-contract.js';

import { S3Store } from '@kzr/platform';

let server: S3Server;
before(async () => {
  server = await S3Server.start({ buckets: [] });
});
after(async () => {
  await server?.cleanup();
});

storeContract('S3 (minio client against s3rver)', {
  // A fresh bucket per test: the store creates it.
  open: () =>
    S3Store.connect({
      endpoint: server.endpoint,
      accessKey: S3Server.accessKey,
      secretKey: S3Server.secretKey,
      bucket: `t-${randomUUID().slice(0, 8)}`,
      partSizeBytes: 5 * 1024 * 1024,
    }),
  corrupt: async (store, key, bytes) => {
    const { client, bucket } = (store as S3Store).raw;
    const info = await store.stat(key);
    // Same metadata (the recorded sha256 included), different bytes.
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
