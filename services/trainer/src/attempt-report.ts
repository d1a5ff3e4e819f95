/**
 * What an attempt of a phase leaves for the run's controller besides its manifest and cache
 * entry: a failure report when it fails (whether a retry may help, one line for a person), and
 * the training checkpoint it got to. The controller's JobRunner tells it only that a Job
 * failed; these objects, in the phase's folder, tell it why and where a retry resumes. A Job
 * that left no report (killed, out of memory, its node gone) failed retryably.
 */
import { phaseOutputPrefix, writePhaseMember } from '@kzr/artifacts';
import type { PhaseId } from '@kzr/pipeline';
import { NotFoundError, type Store } from '@kzr/platform';

/** Why an attempt failed. */
export interface FailureReport {
  readonly retryable: boolean;
  readonly error: string;
}

const failureFile = (attempt: number): string => `failures/attempt-${attempt}.json`;

/** Writes the failure report of an attempt (`runs/<run>/<phase>/[<model>/]failures/attempt-<n>.json`). */
export async function writeFailureReport(
  store: Store,
  run: string,
  phase: PhaseId,
  attempt: number,
  report: FailureReport,
): Promise<void> {
  await writePhaseMember(store, run, phase, failureFile(attempt), Buffer.from(JSON.stringify(report)));
}

async function readJson(store: Store, key: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse((await store.getBytes(key)).toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** The failure report of an attempt; undefined when it left none (its process was killed). */
export async function readFailureReport(
  store: Store,
  run: string,
  phase: PhaseId,
  attempt: number,
): Promise<FailureReport | undefined> {
  const o = await readJson(store, `${phaseOutputPrefix(run, phase)}${failureFile(attempt)}`);
  if (o === undefined) return undefined;
  return { retryable: o.retryable === true, error: typeof o.error === 'string' ? o.error : 'failed' };
}

/**
 * The epochs a training phase of this run has checkpointed: ml's trainer writes `latest.json`
 * (`{ prefix, epoch }`) last after each epoch's checkpoint, into the phase's folder. Undefined
 * when there is none yet.
 */
export async function checkpointEpoch(store: Store, run: string, phase: PhaseId): Promise<number | undefined> {
  const epoch = (await readJson(store, `${phaseOutputPrefix(run, phase)}latest.json`))?.epoch;
  return typeof epoch === 'number' && Number.isInteger(epoch) && epoch >= 1 ? epoch : undefined;
}
