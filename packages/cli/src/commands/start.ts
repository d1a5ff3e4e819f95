/**
 * `kzr start`: the embedded mode. Starts every service on localhost in this process, prints one
 * JSON line with their endpoints and health, and serves until SIGINT/SIGTERM.
 */
import { mkdir } from 'node:fs/promises';

import { kzrProtoFiles, protoRoot } from '@kzr/api/proto-root';
import { createInferenceService } from '@kzr/inference';
import { createLogger, serve } from '@kzr/platform';
import { createPostprocessService } from '@kzr/postprocess';
import { createPreprocessService } from '@kzr/preprocess';

import { compileEmbeddedConfig } from '../config.js';

/** Runs the embedded services; resolves with the exit code after the drain. */
export async function run(): Promise<number> {
  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: config.logLevel, fields: { mode: 'embedded' } });
  await mkdir(config.dataDir, { recursive: true });
  const { lifecycle, servers } = await serve({
    config,
    servers: [
      { name: 'preprocess', port: config.ports.preprocess, services: [createPreprocessService(logger)] },
      { name: 'inference', port: config.ports.inference, services: [createInferenceService(logger)] },
      { name: 'postprocess', port: config.ports.postprocess, services: [createPostprocessService(logger)] },
    ],
    reflectionProtoFiles: [kzrProtoFiles.preprocess, kzrProtoFiles.inference, kzrProtoFiles.postprocess],
    protoIncludeDirs: [protoRoot],
    logger,
  });
  const services = Object.fromEntries(
    [...servers].map(([name, server]) => [name, { endpoint: server.endpoint, health: server.status }]),
  );
  process.stdout.write(`${JSON.stringify({ mode: 'embedded', dataDir: config.dataDir, services })}\n`);
  await lifecycle.untilSignal();
  return lifecycle.state === 'stopped' ? 0 : 1;
}
