/**
 * Failure modes of the gbdt package. Each is core's {@link InvalidArgumentError} (kind `invalid`,
 * a `field` naming the offending input), which the CLI maps to exit 2 and the gRPC interceptor
 * to INVALID_ARGUMENT.
 */
import { InvalidArgumentError } from '@kzr/core';

/** A model file that kzr cannot read: malformed text, an unsupported objective or split. */
export class ModelFormatError extends InvalidArgumentError {
  /** `field` says what was malformed, for example `Tree=3.threshold`. */
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'ModelFormatError';
  }
}

/** A training parameter with an unknown name or an out-of-range value. */
export class ParamError extends InvalidArgumentError {
  /** `field` is the parameter as the caller spelled it, for example `num_leaves`. */
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'ParamError';
  }
}

/** Training or prediction data of the wrong shape or content (labels not 0/1, short rows, bad CSV). */
export class DataError extends InvalidArgumentError {
  /** `field` is the offending input, for example `label[17]` or `csv line 4`. */
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'DataError';
  }
}
