/**
 * Entry point of the standalone trainer service: the platform bootstrap with
 * {@link createTrainer} (config, then the adapters `KZR_BUS`, `KZR_STORE`, `KZR_JOBS`, ..., then
 * the unfinished runs, the `kzr.training.requested` consumer and the gRPC server; SIGTERM drains,
 * leaving the phase Jobs running for the next trainer to adopt).
 */
import { runServiceMain } from '@kzr/platform';

import { compileTrainerConfig, trainerEnvNames } from './config.js';
import { createTrainer } from './create.js';

await runServiceMain({
  name: 'trainer',
  compileConfig: compileTrainerConfig,
  create: createTrainer,
  envNames: trainerEnvNames,
});
