/**
 * The `kzr.v1.Trainer` gRPC service: runs (StartRun, GetRun, WatchRun, CancelRun, ListRuns) over
 * the Store's run records and {@link TrainerRuns}, and model sets (ListModelSets, PromoteVersion,
 * RollbackVersion) over artifacts' promotion, each change announced on the Bus so running
 * inference services switch to the version now served.
 */
import type { PhaseStatus as WirePhaseStatus } from '@kzr/api/kzr/v1/common';
import { TrainerService } from '@kzr/api/kzr/v1/trainer';
import {
  announceServedVersion,
  checkSegment,
  listModelSetVersions,
  listRuns,
  type Promotion,
  promoteVersion,
  readRunRecord,
  requestRunCancel,
  rollbackVersion,
} from '@kzr/artifacts';
import { buildPhaseGraph, isFinalRunStatus, reduceRunState, type RunRecord, type RunState } from '@kzr/pipeline';
import {
  type Bus,
  type GrpcServiceRegistration,
  type Handlers,
  implement,
  type Logger,
  NotFoundError,
  type Store,
  ValidationError,
} from '@kzr/platform';

import { phaseStatusToWire, runToWire } from './convert.js';
import { checkRunName, newRunName } from './run-create.js';
import { phaseLines } from './run-lines.js';
import type { TrainerRuns } from './runs.js';

/** Fully qualified service name, as health and reflection report it. */
export const trainerServiceName = 'kzr.v1.Trainer';

/** What the handlers use. */
export interface TrainerDeps {
  readonly store: Store;
  readonly bus: Bus;
  readonly runs: TrainerRuns;
  /** How often WatchRun reads the run's record again. @default 300 */
  readonly watchPollMs?: number;
}

/** The most runs ListRuns returns when the request says 0. */
const defaultRunLimit = 50;

async function recordOf(store: Store, runId: string): Promise<RunRecord> {
  if (runId === '') throw new ValidationError('run_id', 'is empty');
  try {
    return await readRunRecord(store, checkSegment('run_id', runId));
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`run "${runId}"`, { cause: err });
    throw err;
  }
}

function stateOf(record: RunRecord): RunState {
  return reduceRunState(buildPhaseGraph(record.spec), record.events);
}

/** The service's handlers, exposed for embedding and tests. */
export function createTrainerHandlers(deps: TrainerDeps): Handlers<typeof TrainerService> {
  const { store, bus, runs } = deps;
  const served = async (modelSet: string, change: Promise<Promotion>) => {
    const promotion = await change;
    await announceServedVersion(bus, modelSet, promotion.version);
    return { modelSet, version: promotion.version, previous: [...promotion.previous] };
  };
  return {
    startRun: async (request) => {
      const run = request.runId === '' ? newRunName() : checkRunName('run_id', request.runId);
      await runs.request(request, run);
      return { runId: run };
    },

    getRun: async (request) => runToWire(await recordOf(store, request.runId)),

    watchRun: async function* (request, ctx): AsyncGenerator<WirePhaseStatus> {
      let prev: RunState | undefined;
      for (;;) {
        const record = await recordOf(store, request.runId);
        const state = stateOf(record);
        for (const line of phaseLines(prev, state)) {
          yield phaseStatusToWire(record.run, state.phases.get(line.phase)!);
        }
        prev = state;
        if (isFinalRunStatus(state.status)) return;
        await new Promise((resolve) => setTimeout(resolve, deps.watchPollMs ?? 300));
        ctx.signal.throwIfAborted();
      }
    },

    cancelRun: async (request) => {
      const record = await recordOf(store, request.runId);
      // The run's controller polls for the request, records it and stops the Jobs.
      if (!isFinalRunStatus(stateOf(record).status)) await requestRunCancel(store, record.run, 'CancelRun');
      return runToWire(record);
    },

    listRuns: async (request) => {
      const limit = request.limit === 0 ? defaultRunLimit : request.limit;
      const records = await Promise.all((await listRuns(store)).map((run) => readRunRecord(store, run)));
      records.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
      return { runs: records.slice(0, limit).map((record) => runToWire(record)) };
    },

    listModelSets: async (request) => {
      const set = request.modelSet === '' ? undefined : checkSegment('model_set', request.modelSet);
      return { versions: await listModelSetVersions(store, set) };
    },

    promoteVersion: async (request) => {
      const modelSet = checkSegment('model_set', request.modelSet);
      const version = checkSegment('version', request.version);
      return served(modelSet, promoteVersion(store, modelSet, version));
    },

    rollbackVersion: async (request) => {
      const modelSet = checkSegment('model_set', request.modelSet);
      return served(modelSet, rollbackVersion(store, modelSet));
    },
  };
}

/** Builds the service registration for a gRPC server. */
export function createTrainerService(deps: TrainerDeps, logger: Logger): GrpcServiceRegistration {
  return {
    name: trainerServiceName,
    definition: TrainerService,
    implementation: implement(TrainerService, createTrainerHandlers(deps), logger),
  };
}
