/**
 * Asking the trainer for a run as a user does: `kzr.training.requested` (DESIGN.md "Events") on
 * the Bus the trainer consumes, the run named by the request id (one run per id; JetStream drops
 * a second publication of the same id within its duplicate window). `kzr retrain` and `kzr
 * start`'s first run send it.
 */
import { EventSubject, type Bus, type PublishResult } from '@kzr/platform';
import type { RunSpec } from '@kzr/pipeline';

/** What a training request names. */
export interface TrainingRequest {
  /** The request id and the run's name. */
  readonly requestId: string;
  /** A stored dataset (`datasets/<name>/`). */
  readonly dataset: string;
  /** A preset by name, or a whole spec (sent with its model configurations inline). */
  readonly preset?: string;
  readonly spec?: RunSpec;
}

/** Publishes the request; resolves with whether the Bus had it already. */
export function requestTraining(bus: Bus, request: TrainingRequest): Promise<PublishResult> {
  return bus.publish(
    EventSubject.TrainingRequested,
    {
      meta: undefined,
      runId: request.requestId,
      spec: { dataset: request.dataset, modelConfigs: [], valBooks: [], seed: 0, phases: [], modelSet: '', labels: {} },
      preset: request.spec === undefined ? (request.preset ?? 'default') : '',
      specJson: request.spec === undefined ? '' : JSON.stringify(request.spec),
    },
    { id: request.requestId },
  );
}
