/**
 * `kzr start`: the embedded mode. Starts the machine's Bus (a nats-server child with JetStream
 * under the data directory, recorded in `<data dir>/bus.json` so every `kzr` command on this
 * machine uses it while it runs) unless `KZR_BUS` or `KZR_NATS_URL` choose another, opens the
 * adapters (that Bus, the filesystem Store under the data directory and local jobs), starts every service on localhost
 * in this process through the same factories the standalone mains use (preprocess with its
 * worker, postprocess with the filter hot swap, inference on the newest published model set with
 * the model hot swap and RecognizePage calling the two others, the trainer driving runs through
 * the JobRunner and recorded in `<data dir>/trainer.json` for `kzr run start`), then the live page
 * (`KZR_HTTP_PORT`, ../web/server.ts), prints one JSON line with their
 * endpoints, health, readiness (inference is ready once a model set is loaded), the page's URL and adapters, and
 * serves until SIGINT/SIGTERM. The drain runs each service's steps (Bus intake, calls, models),
 * all services at once, then closes the adapters and stops the machine's Bus.
 */
import { mkdir, stat } from 'node:fs/promises';

import { createInference } from '@kzr/inference';
import {
  createLogger,
  defaultDataDir,
  drainOnSignal,
  openAdapters,
  readMachineBus,
  startMachineBus,
} from '@kzr/platform';
import { createPostprocess } from '@kzr/postprocess';
import { createPreprocess } from '@kzr/preprocess';
import { createTrainer } from '@kzr/trainer';

import { parseCommand, printJson, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { compileEmbeddedServicesConfig } from '../services-config.js';
import { readStartRun, runMainJob } from '../runs/main-job.js';
import { recordTrainer } from '../trainer-client.js';
import { compileLivePageConfig } from '../web/config.js';
import { startLivePage } from '../web/server.js';
import { usage } from './start.usage.js';

/** `--dataset`: a folder that exists. */
async function checkDatasetFolder(dir: string): Promise<string> {
  if ((await stat(dir).catch(() => undefined))?.isDirectory() !== true) {
    throw new UsageError('--dataset', `${dir} is not a folder (give a Kaggle- or CODH-layout folder)`);
  }
  return dir;
}

/** Runs the embedded services; resolves with the exit code after the drain. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const env = process.env;
  // Validated first: a bad variable or flag exits before the machine's Bus starts.
  compileEmbeddedConfig(env);
  const services = compileEmbeddedServicesConfig(env);
  const startRun = readStartRun(env);
  const livePage = compileLivePageConfig(env);
  const dataset = typeof values['dataset'] === 'string' ? await checkDatasetFolder(values['dataset']) : undefined;
  const dataDir = defaultDataDir(env);
  await mkdir(dataDir, { recursive: true });
  // Disposed last: the machine's Bus, unless KZR_BUS or KZR_NATS_URL choose one or another
  // `kzr start` on this data directory runs it already.
  await using _machineBus =
    env['KZR_BUS'] || env['KZR_NATS_URL'] || readMachineBus(dataDir) !== undefined
      ? undefined
      : await startMachineBus(dataDir, env);
  const config = compileEmbeddedConfig(env);
  const logger = createLogger({ level: config.logLevel, fields: { mode: 'embedded' } });
  // Disposed in reverse order of declaration: the services drain before the adapters close.
  await using adapters = await openAdapters(config.adapters, { logger, source: 'kzr-embedded' });
  const shared = { bus: adapters.bus, store: adapters.store };
  await using preprocess = await createPreprocess({
    ...shared,
    config: services.preprocess,
    logger: logger.child({ service: 'preprocess' }),
  });
  await using postprocess = await createPostprocess({
    ...shared,
    config: services.postprocess,
    logger: logger.child({ service: 'postprocess' }),
  });
  // RecognizePage calls this process's own preprocess and postprocess services.
  await using inference = await createInference({
    ...shared,
    config: {
      ...services.inference,
      pagePath: { preprocess: preprocess.server.endpoint, postprocess: postprocess.server.endpoint },
    },
    logger: logger.child({ service: 'inference' }),
  });
  // The trainer drives runs through local Jobs (or KZR_JOBS's), and `kzr run start` finds it.
  await using trainer = await createTrainer({
    ...shared,
    jobs: adapters.jobs,
    config: services.trainer,
    logger: logger.child({ service: 'trainer' }),
  });
  await using _trainerRecord = await recordTrainer(dataDir, trainer.server.endpoint);
  // The live page (README "The live page"), after the services it reads and calls.
  await using page =
    livePage === undefined
      ? undefined
      : await startLivePage({
          ...shared,
          config: livePage,
          inference: inference.server.endpoint,
          grpcClient: config.grpcClient,
          authTokensFile: config.authTokensFile,
          logDir: config.adapters.jobs.kind === 'local' ? config.adapters.jobs.logDir : undefined,
          logger: logger.child({ component: 'live-page' }),
        });
  const runtimes = [preprocess, inference, postprocess, trainer];
  const serving = Object.fromEntries(
    runtimes.map((r) => [r.name, { endpoint: r.server.endpoint, health: r.server.status, ready: r.server.ready }]),
  );
  const started = performance.now();
  process.stdout.write(
    `${JSON.stringify({
      event: 'started',
      mode: 'embedded',
      dataDir: config.dataDir,
      adapters: adapters.describe,
      services: serving,
      page: page?.url ?? 'off',
      // Every service shares the TLS and auth settings: say once whether the ports are open.
      security: preprocess.server.security,
    })}\n`,
  );
  // Signals are handled from here on; a drain stops the main job first.
  const mainJob = new AbortController();
  const drained = drainOnSignal(async (signal) => {
    mainJob.abort();
    await Promise.all(runtimes.map((r) => r.close(signal)));
  }, logger);
  await runMainJob({
    ...shared,
    storeConfig: config.adapters.store,
    dataDir,
    startRun,
    dataset,
    inference,
    postprocess,
    endpoints: Object.fromEntries(runtimes.map((r) => [r.name, r.server.endpoint])),
    started,
    signal: mainJob.signal,
  }).catch((err: unknown) => {
    if (mainJob.signal.aborted) return;
    // The services keep serving what they have; the line says why no run was made.
    logger.error('main job failed', { err });
    printJson({ event: 'error', message: err instanceof Error ? err.message : String(err) });
  });
  await drained;
  return runtimes.every((r) => r.state === 'stopped') ? 0 : 1;
}
