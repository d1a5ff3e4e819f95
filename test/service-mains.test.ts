/**
 * Every service's standalone main compiles its whole config, adapter variables included, before it
 * opens anything: an invalid variable exits 2 with a line naming it, and nothing is created.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { runToExit } from '@kzr/testkit';

for (const service of ['preprocess', 'inference', 'postprocess']) {
  const main = fileURLToPath(new URL(`../services/${service}/src/main.ts`, import.meta.url));

  describe(`the ${service} main`, () => {
    it('exits 2 naming KZR_STORE when it is invalid', async () => {
      const exit = await runToExit(main, { env: { KZR_STORE: 'bogus', KZR_GRPC_PORT: '0' } });
      assert.equal(exit.code, 2, exit.stderr);
      assert.match(exit.stderr, /KZR_STORE="bogus" is invalid: expected one of fs, s3/);
    });

    it('exits 2 naming a bad NATS URL before anything opens', async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), `kzr-${service}-main-`));
      t.after(() => rm(dataDir, { recursive: true, force: true }));
      const exit = await runToExit(main, {
        env: { KZR_BUS: 'nats', KZR_NATS_URL: 'http://nats:4222', KZR_DATA_DIR: dataDir, KZR_GRPC_PORT: '0' },
      });
      assert.equal(exit.code, 2, exit.stderr);
      assert.match(exit.stderr, /KZR_NATS_URL="http:\/\/nats:4222" is invalid/);
      assert.deepEqual(await readdir(dataDir), [], 'the filesystem Store was not opened');
    });
  });
}
