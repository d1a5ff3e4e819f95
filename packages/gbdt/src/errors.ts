/**
 * Failure modes of the gbdt package. `@kzr/gbdt` cannot import the platform, so its errors follow
 * the platform's shape: a `kind` (`invalid`) and a `field` naming the offending input, which the
 * CLI maps to exit 2 and the gRPC interceptor to INVALID_ARGUMENT.
 */

/** A model file that kzr cannot read: malformed text, an unsupported objective or split. */
export class ModelFormatError extends Error {
  /** Always `invalid`: reading the same text again fails again. */
  readonly kind = 'invalid' as const;
  /** What was malformed, for example `Tree=3.threshold`. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = 'ModelFormatError';
    this.field = field;
  }
}

/** A training parameter with an unknown name or an out-of-range value. */
export class ParamError extends Error {
  /** Always `invalid`. */
  readonly kind = 'invalid' as const;
  /** The parameter as the caller spelled it, for example `num_leaves`. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = 'ParamError';
    this.field = field;
  }
}

/** Training or prediction data of the wrong shape or content (labels not 0/1, short rows, bad CSV). */
export class DataError extends Error {
  /** Always `invalid`. */
  readonly kind = 'invalid' as const;
  /** The offending input, for example `label[17]` or `csv line 4`. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = 'DataError';
    this.field = field;
  }
}
