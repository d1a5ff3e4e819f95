/**
 * Entry point of the standalone preprocess service. With `KZR_NATS_URL` and `KZR_S3_ENDPOINT`
 * (plus `KZR_S3_ACCESS_KEY`, `KZR_S3_SECRET_KEY`, `KZR_S3_BUCKET` default `kzr`) set, it also
 * serves `Image.store_key` inputs from S3 and runs the JetStream worker on the shared durable
 * `preprocess`; without them it serves gRPC only.
 */
import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import {
  ConfigError,
  createLogger,
  isConfigError,
  NatsBus,
  readString,
  runServiceMain,
  S3Store,
  serve,
} from '@kzr/platform';

import { compilePreprocessConfig } from './config.js';
import { createPreprocessService } from './service.js';
import { startPreprocessWorker } from './worker.js';

const natsUrl = readString(process.env, 'KZR_NATS_URL');
const s3Endpoint = readString(process.env, 'KZR_S3_ENDPOINT');

if (natsUrl === undefined || s3Endpoint === undefined) {
  await runServiceMain({
    name: 'preprocess',
    compileConfig: compilePreprocessConfig,
    createServices: (logger) => [createPreprocessService(logger, { limits: compilePreprocessConfig(process.env) })],
    reflectionProtoFiles: [kzrProtoFiles.preprocess],
    protoIncludeDirs: [protoRoot],
  });
} else {
  try {
    const config = compilePreprocessConfig(process.env);
    const need = (name: string): string => {
      const v = readString(process.env, name);
      if (v === undefined) throw new ConfigError(name, '', 'a value when KZR_S3_ENDPOINT is set');
      return v;
    };
    const logger = createLogger({ level: config.logLevel, fields: { service: 'preprocess' } });
    const store = await S3Store.connect({
      endpoint: s3Endpoint,
      accessKey: need('KZR_S3_ACCESS_KEY'),
      secretKey: need('KZR_S3_SECRET_KEY'),
      bucket: readString(process.env, 'KZR_S3_BUCKET') ?? 'kzr',
    });
    const bus = await NatsBus.connect({ servers: natsUrl, name: 'preprocess', source: 'preprocess', logger });
    const { lifecycle } = await serve({
      config,
      servers: [
        {
          name: 'preprocess',
          port: config.grpcPort,
          services: [createPreprocessService(logger, { limits: config, store })],
        },
      ],
      reflectionProtoFiles: [kzrProtoFiles.preprocess],
      protoIncludeDirs: [protoRoot],
      logger,
    });
    const worker = await startPreprocessWorker({
      bus,
      store,
      logger,
      threads: config.threads,
      maxPagePixels: config.maxPagePixels,
    });
    lifecycle.onDrain('worker', () => worker.stop());
    lifecycle.onDrain('bus', () => bus.close());
    lifecycle.onDrain('store', () => store.close());
    await lifecycle.untilSignal();
    process.exitCode = lifecycle.state === 'stopped' ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${isConfigError(err) ? err.message : String(err)}\n`);
    process.exitCode = isConfigError(err) ? 2 : 1;
  }
}
