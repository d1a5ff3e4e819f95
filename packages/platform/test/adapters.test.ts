import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

import { NatsServer, S3Server } from '@kzr/testkit';

import {
  compileAdapterConfig,
  ConfigError,
  defaultDataDir,
  EventSubject,
  openAdapters,
  createLogger,
} from '@kzr/platform';

const logger = createLogger({ level: 'error' });

describe('adapter configuration', () => {
  it('defaults to the embedded adapters under the data directory', () => {
    const config = compileAdapterConfig({}, '/data/kzr');
    assert.deepEqual(config, {
      bus: { kind: 'memory' },
      store: { kind: 'fs', root: '/data/kzr/store' },
      jobs: { kind: 'local', logDir: '/data/kzr/jobs' },
    });
  });

  it('resolves the data directory from KZR_DATA_DIR, else XDG_DATA_HOME, else ~/.local/share', () => {
    assert.equal(defaultDataDir({ KZR_DATA_DIR: 'rel/data', XDG_DATA_HOME: '/xdg' }), resolve('rel/data'));
    assert.equal(defaultDataDir({ KZR_DATA_DIR: ' ', XDG_DATA_HOME: '/xdg' }), '/xdg/kzr');
    assert.equal(defaultDataDir({}), join(homedir(), '.local', 'share', 'kzr'));
  });

  it('reads the cluster adapters and names a missing or bad variable', () => {
    const config = compileAdapterConfig(
      {
        KZR_BUS: 'nats',
        KZR_NATS_URL: 'nats://a:4222, nats://b:4222',
        KZR_STORE: 's3',
        KZR_S3_ENDPOINT: 'http://minio:9000',
        KZR_S3_ACCESS_KEY: 'k',
        KZR_S3_SECRET_KEY: 's',
        KZR_JOBS: 'kubernetes',
        KZR_KUBE_NAMESPACE: 'ml',
      },
      '/data',
    );
    assert.deepEqual(config.bus, {
      kind: 'nats',
      servers: ['nats://a:4222', 'nats://b:4222'],
      stream: 'KZR',
      auth: undefined,
      tls: undefined,
    });
    assert.equal(config.store.kind === 's3' && config.store.bucket, 'kzr');
    assert.equal(config.store.kind === 's3' && config.store.partSizeBytes, 8 * 1024 * 1024);
    assert.deepEqual(config.jobs, {
      kind: 'kubernetes',
      namespace: 'ml',
      serviceAccountName: undefined,
      templateFile: undefined,
    });
    const bad: Array<[Record<string, string>, string]> = [
      [{ KZR_BUS: 'kafka' }, 'KZR_BUS'],
      [{ KZR_BUS: 'nats' }, 'KZR_NATS_URL'],
      [{ KZR_BUS: 'nats', KZR_NATS_URL: 'http://nats:4222' }, 'KZR_NATS_URL'],
      [{ KZR_BUS: 'nats', KZR_NATS_URL: 'nats://a:4222, nats://:x' }, 'KZR_NATS_URL'],
      [{ KZR_STORE: 'bogus' }, 'KZR_STORE'],
      [{ KZR_STORE: 's3', KZR_S3_ENDPOINT: 'minio:9000' }, 'KZR_S3_ENDPOINT'],
      [{ KZR_STORE: 's3', KZR_S3_ENDPOINT: 'http://x' }, 'KZR_S3_ACCESS_KEY'],
      [{ KZR_JOBS: 'slurm' }, 'KZR_JOBS'],
      [
        {
          KZR_STORE: 's3',
          KZR_S3_ENDPOINT: 'http://x',
          KZR_S3_ACCESS_KEY: 'a',
          KZR_S3_SECRET_KEY: 'b',
          KZR_S3_PART_SIZE_MB: '1',
        },
        'KZR_S3_PART_SIZE_MB',
      ],
    ];
    for (const [env, variable] of bad) {
      assert.throws(
        () => compileAdapterConfig(env, '/data'),
        (err) => err instanceof ConfigError && err.variable === variable,
        variable,
      );
    }
  });
});

describe('openAdapters', () => {
  it('opens the embedded adapters: in-process Bus, filesystem Store under the data dir, local jobs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kzr-adapters-'));
    try {
      await using adapters = await openAdapters(compileAdapterConfig({}, dataDir), { logger, source: 'test' });
      assert.deepEqual(adapters.describe, { bus: 'memory', store: `fs:${join(dataDir, 'store')}`, jobs: 'local' });
      const put = await adapters.store.put('datasets/d/labels.csv', Buffer.from('image_id,labels\n'));
      assert.equal((await adapters.store.stat('datasets/d/labels.csv')).sha256, put.sha256);
      assert.equal(adapters.bus.kind, 'memory');
      assert.equal(adapters.jobs.kind, 'local');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('opens the cluster adapters against NATS and S3 as configured', async () => {
    await using nats = await NatsServer.start();
    await using s3 = await S3Server.start({ buckets: [] });
    const config = compileAdapterConfig(
      {
        KZR_BUS: 'nats',
        KZR_NATS_URL: nats.url,
        KZR_STORE: 's3',
        KZR_S3_ENDPOINT: s3.endpoint,
        KZR_S3_BUCKET: 'artifacts',
        KZR_S3_ACCESS_KEY: S3Server.accessKey,
        KZR_S3_SECRET_KEY: S3Server.secretKey,
      },
      '/unused',
    );
    await using adapters = await openAdapters(config, { logger, source: 'test' });
    assert.equal(adapters.describe.store, `s3:${s3.endpoint}/artifacts`);
    assert.equal(adapters.bus.kind, 'nats');
    const result = await adapters.bus.publish(
      EventSubject.FilterPublished,
      {
        meta: undefined,
        version: 'v1',
        modelKey: 'filters/v1/model.txt',
        featuresKey: 'filters/v1/features.json',
        threshold: 0.42,
      },
      { id: 'filter-v1' },
    );
    assert.equal(result.duplicate, false);
    assert.equal((await adapters.store.put('filters/v1/model.txt', Buffer.from('tree'))).size, 4);
  });
});
