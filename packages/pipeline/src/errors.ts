/**
 * Failure modes of `@kzr/pipeline`. Each is core's {@link InvalidArgumentError} (kind `invalid`,
 * a `field` naming the offending input, message `field: problem`), which the CLI maps to exit 2
 * and the gRPC interceptor to INVALID_ARGUMENT.
 */
import { InvalidArgumentError } from '@kzr/core';

/** A run spec (a preset, a `--spec` file, a spec inside `run.json`) that kzr cannot run. */
export class RunSpecError extends InvalidArgumentError {
  /** `field` is the path in the spec, for example `spec.models[1].epochs.firstTrain`. */
  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(field, problem, options);
    this.name = 'RunSpecError';
  }
}

/**
 * A run record that does not hold together: a malformed `run.json`, a phase record for a phase
 * the run does not have, an attempt out of order. The reducer refuses it rather than guess.
 */
export class RunRecordError extends InvalidArgumentError {
  /** `field` is the path in the record, for example `run.events[4].attempt`. */
  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(field, problem, options);
    this.name = 'RunRecordError';
  }
}
