/**
 * Finding and calling the trainer from `kzr run start|cancel|watch|list`. `kzr start` runs one and records
 * its endpoint in `<data dir>/trainer.json` while it serves; `KZR_TRAINER_URL` (`host:port`) names
 * another. A command finds it there and uses it when it answers health within a second;
 * otherwise the command is the run's controller itself, in-process (a lone command, tests).
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type * as grpc from '@grpc/grpc-js';
import type { PhaseStatus } from '@kzr/api/kzr/v1/common';
import type {
  GetRunRequest,
  ListRunsRequest,
  ListRunsResponse,
  Run,
  StartRunRequest,
  StartRunResponse,
} from '@kzr/api/kzr/v1/trainer';
import { TrainerClient } from '@kzr/api/kzr/v1/trainer';
import { clientCredentials, compileGrpcClientConfig, type Env, fromServiceError, readString } from '@kzr/platform';

/** `<data dir>/trainer.json`. */
export function trainerFile(dataDir: string): string {
  return join(dataDir, 'trainer.json');
}

/** Records the embedded trainer's endpoint (`kzr start`); disposing removes the record. */
export async function recordTrainer(dataDir: string, endpoint: string): Promise<AsyncDisposable> {
  const file = trainerFile(dataDir);
  await writeFile(file, JSON.stringify({ endpoint }));
  return { [Symbol.asyncDispose]: () => rm(file, { force: true }) };
}

/**
 * Where a trainer is said to run: `KZR_TRAINER_URL`, else the record of `kzr start` (one a killed
 * `kzr start` left behind answers nothing, so the caller's reachability check discards it).
 */
function trainerEndpoint(env: Env, dataDir: string): string | undefined {
  const named = readString(env, 'KZR_TRAINER_URL');
  if (named !== undefined) return named;
  try {
    const record = JSON.parse(readFileSync(trainerFile(dataDir), 'utf8')) as { endpoint?: unknown };
    return typeof record.endpoint === 'string' ? record.endpoint : undefined;
  } catch {
    return undefined;
  }
}

/** The calls of `kzr.v1.Trainer` the CLI makes; failures are kzr errors (a bad field stays `field: problem`). */
export interface Trainer {
  readonly endpoint: string;
  startRun(request: StartRunRequest): Promise<StartRunResponse>;
  cancelRun(request: GetRunRequest): Promise<Run>;
  getRun(request: GetRunRequest): Promise<Run>;
  listRuns(request: ListRunsRequest): Promise<ListRunsResponse>;
  /** WatchRun's stream: each phase whose state changed, until the run is final. */
  watchRun(request: GetRunRequest): AsyncIterable<PhaseStatus>;
  close(): void;
}

/** The reachable trainer (it answered within `timeoutMs`), or undefined. */
export async function connectTrainer(env: Env, dataDir: string, timeoutMs = 1000): Promise<Trainer | undefined> {
  const endpoint = trainerEndpoint(env, dataDir);
  if (endpoint === undefined) return undefined;
  // The trainer may be another machine's (KZR_TRAINER_URL): its TLS and token as every client's.
  const { credentials, options } = clientCredentials(compileGrpcClientConfig(env));
  const client = new TrainerClient(endpoint, credentials, options);
  const ready = await new Promise<boolean>((resolve) =>
    client.waitForReady(Date.now() + timeoutMs, (err) => resolve(err === undefined || err === null)),
  );
  if (!ready) {
    client.close();
    return undefined;
  }
  const unary =
    <Q, R>(method: (request: Q, callback: (err: grpc.ServiceError | null, res: R) => void) => unknown) =>
    (request: Q): Promise<R> =>
      new Promise((resolve, reject) =>
        method.call(client, request, (err, res) => (err ? reject(fromServiceError(err, endpoint)) : resolve(res))),
      );
  return {
    endpoint,
    startRun: unary<StartRunRequest, StartRunResponse>(client.startRun),
    cancelRun: unary<GetRunRequest, Run>(client.cancelRun),
    getRun: unary<GetRunRequest, Run>(client.getRun),
    listRuns: unary<ListRunsRequest, ListRunsResponse>(client.listRuns),
    watchRun: async function* (request) {
      try {
        for await (const status of client.watchRun(request)) yield status as PhaseStatus;
      } catch (err) {
        throw fromServiceError(err as grpc.ServiceError, endpoint);
      }
    },
    close: () => client.close(),
  };
}
