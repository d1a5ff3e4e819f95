/**
 * The trainer service as one runtime: `kzr.v1.Trainer` on gRPC, a durable consumer of
 * `kzr.training.requested` (one run per request id), and the runs it drives, through the
 * JobRunner it is given (local processes or Kubernetes Jobs). At start it drives again every
 * run the Store holds whose status is not final. Used by the standalone main, the CLI's
 * embedded mode and tests.
 */
import { kzrProtoFiles } from '@kzr/api/proto-root';
import {
  DrainPhase,
  EventSubject,
  type JobRunner,
  type ServiceOptions,
  type ServiceRuntime,
  startService,
} from '@kzr/platform';

import type { TrainerConfig } from './config.js';
import { runNameOfRequest } from './run-create.js';
import { TrainerRuns } from './runs.js';
import { createTrainerService } from './service.js';

/** Options of {@link createTrainer}. */
export interface TrainerOptions extends ServiceOptions<TrainerConfig> {
  /** Runs the phase Jobs. */
  readonly jobs: JobRunner;
  /** Durable consumer of `kzr.training.requested`. @default 'trainer' */
  readonly durable?: string;
}

/** A started trainer service. */
export interface TrainerRuntime extends ServiceRuntime {
  /** The runs it drives. */
  readonly runs: TrainerRuns;
  /** The runs it found unfinished in the Store at start and drives again. */
  readonly resumed: readonly string[];
}

/**
 * Drives the unfinished runs again, subscribes to `kzr.training.requested`, then starts the gRPC
 * server. The drain stops the intake first, then the calls, then the driving (the Jobs run on).
 */
export function createTrainer(options: TrainerOptions): Promise<TrainerRuntime> {
  const { config, bus, store, jobs, logger } = options;
  return startService({
    name: 'trainer',
    config,
    logger,
    protoFiles: [kzrProtoFiles.trainer],
    setUp: async (lifecycle) => {
      const runs = new TrainerRuns({
        store,
        bus,
        jobs,
        logger,
        jobCommand: config.jobCommand,
        jobImage: config.jobImage,
        jobEnv: config.jobEnv,
        pollMs: config.pollMs,
      });
      lifecycle.onDrain(DrainPhase.Resources, 'trainer-runs', () => runs.close());
      const resumed = await runs.resumeUnfinished();
      if (resumed.length > 0) logger.info('driving unfinished runs again', { runs: resumed });
      const requests = await bus.consume(
        { durable: options.durable ?? 'trainer', filterSubject: EventSubject.TrainingRequested, ackWaitMs: 60_000 },
        // Returning acks the delivery, so only once run.json is written; a bad request is
        // dead-lettered (a ValidationError is not retryable). The run is driven in the background.
        async (message) => {
          const run = runNameOfRequest(message.event.runId || message.id);
          const { created } = await runs.request(message.event, run);
          logger.info(created ? 'run requested' : 'run requested again', { run, event: message.id });
        },
      );
      lifecycle.onDrain(DrainPhase.Intake, 'trainer-requests', () => requests.stop());
      return {
        services: [createTrainerService({ store, bus, runs }, logger)],
        expose: { runs, resumed },
      };
    },
  });
}
