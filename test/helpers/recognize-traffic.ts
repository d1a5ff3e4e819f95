// Test helper: RecognizePage traffic as a client fleet sends it while parts of a deployment are
// killed: `concurrency` callers, each sending its next request when the last one answered; a call
// that fails UNAVAILABLE (the server gone, not yet listening, its set still loading) is sent again
// after a backoff until the request's deadline.
import { setTimeout as sleep } from 'node:timers/promises';

import * as grpc from '@grpc/grpc-js';
import { InferenceClient, type RecognizePageRequest } from '@kzr/api/kzr/v1/inference';

/** A request that failed after its retries. */
export interface FailedRequest {
  /** When it was sent and when it gave up, in ms since the traffic began. */
  readonly sentMs: number;
  readonly endedMs: number;
  readonly error: string;
}

/** What {@link startRecognizeTraffic}'s `stop` resolves with. */
export interface TrafficReport {
  /** Requests sent (each counted once, however many calls its retries made). */
  readonly sent: number;
  /** Calls answered UNAVAILABLE and sent again. */
  readonly retried: number;
  readonly failed: readonly FailedRequest[];
  /** Answers by the model-set version that served them. */
  readonly versions: Readonly<Record<string, number>>;
  readonly slowestMs: number;
}

/** Options of {@link startRecognizeTraffic}. */
export interface TrafficOptions {
  /** Callers at once. @default 16 */
  readonly concurrency?: number;
  /** How long one request may take, its retries included. @default 60000 */
  readonly requestDeadlineMs?: number;
}

/** The first retry's backoff and the longest (doubling between them). */
const backoffMs = [100, 2000] as const;

/** Starts the traffic against the inference service at `endpoint`; `stop` waits for the requests in flight. */
export function startRecognizeTraffic(endpoint: string, request: RecognizePageRequest, options: TrafficOptions = {}) {
  // A restarted server is found again within a second (the channel's reconnect backoff).
  const client = new InferenceClient(endpoint, grpc.credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
  });
  const begun = Date.now();
  const deadlineMs = options.requestDeadlineMs ?? 60_000;
  let running = true;
  let sent = 0;
  let retried = 0;
  let slowestMs = 0;
  const failed: FailedRequest[] = [];
  const versions: Record<string, number> = {};

  const call = (deadline: number) =>
    new Promise<{ version: string } | grpc.ServiceError>((resolve) =>
      client.recognizePage(request, new grpc.Metadata(), { deadline }, (err, res) =>
        resolve(err ?? { version: res.servedBy?.version ?? '' }),
      ),
    );
  const send = async (): Promise<void> => {
    sent++;
    const sentAt = Date.now();
    const deadline = sentAt + deadlineMs;
    for (let pause: number = backoffMs[0]; ; pause = Math.min(pause * 2, backoffMs[1])) {
      const answer = await call(deadline);
      if (!('code' in answer)) {
        versions[answer.version] = (versions[answer.version] ?? 0) + 1;
        break;
      }
      if (answer.code !== grpc.status.UNAVAILABLE || Date.now() + pause >= deadline) {
        failed.push({ sentMs: sentAt - begun, endedMs: Date.now() - begun, error: answer.message });
        break;
      }
      retried++;
      await sleep(pause);
    }
    slowestMs = Math.max(slowestMs, Date.now() - sentAt);
  };
  const callers = Array.from({ length: options.concurrency ?? 16 }, async () => {
    while (running) await send();
  });
  return {
    /** Ms since the traffic began (to line kills up with failures). */
    elapsedMs: () => Date.now() - begun,
    stop: async (): Promise<TrafficReport> => {
      running = false;
      await Promise.all(callers);
      client.close();
      return { sent, retried, failed, versions, slowestMs };
    },
  };
}
