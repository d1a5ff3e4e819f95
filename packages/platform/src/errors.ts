/**
 * The platform's failure modes: bad input at a service's edge, missing or not-ready things,
 * conflicts, and configuration. Each extends core's {@link KzrError}, so the gRPC error
 * interceptor, the Bus and the CLI map them by `kind` and `field` like every other package's
 * errors; users import the base (`KzrError`, `ErrorKind`) from `@kzr/core`.
 */
import { ErrorKind, InvalidArgumentError, KzrError } from '@kzr/core';

/** A request or input at a service's edge is invalid; `field` names it (a dotted path such as `boxes[3].width`). */
export class ValidationError extends InvalidArgumentError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'ValidationError';
  }
}

/** A named thing (model set, filter version, object, run) does not exist. */
export class NotFoundError extends KzrError {
  /** What was looked for, for example `model set "kuzushiji"`. */
  readonly what: string;

  constructor(what: string, options?: ErrorOptions) {
    super(ErrorKind.NotFound, `${what} not found`, options);
    this.name = 'NotFoundError';
    this.what = what;
  }
}

/** A thing exists but cannot serve yet (still loading, draining, dependency down). */
export class NotReadyError extends KzrError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorKind.Unavailable, message, options);
    this.name = 'NotReadyError';
  }
}

/** Something with this name exists already (a Kubernetes 409, a duplicate job name). */
export class ConflictError extends KzrError {
  /** What clashed, for example `job "train-1"`. */
  readonly what: string;

  constructor(what: string, options?: ErrorOptions) {
    super(ErrorKind.Conflict, `${what} already exists`, options);
    this.name = 'ConflictError';
    this.what = what;
  }
}

/**
 * A bounded in-process resource (a queue) is full, so the work is refused rather than queued
 * without limit (STYLE §11); the gRPC status is RESOURCE_EXHAUSTED. Retrying later may succeed.
 */
export class ResourceExhaustedError extends KzrError {
  /** The limit that was reached, as it is configured, for example `KZR_INFERENCE_MAX_QUEUE`. */
  readonly limit: string;
  /** The limit's value. */
  readonly max: number;

  constructor(what: string, limit: string, max: number, options?: ErrorOptions) {
    super(ErrorKind.ResourceExhausted, `${what} is full (${limit} = ${max}); retry later`, options);
    this.name = 'ResourceExhaustedError';
    this.limit = limit;
    this.max = max;
  }
}

/**
 * A request or input asks for more work than a configured budget allows (pixels, crops, boxes,
 * characters, declared sizes), checked before the work starts; the gRPC status is
 * RESOURCE_EXHAUSTED and the CLI exits 2. The same input fails again: send less, or raise the limit.
 */
export class LimitExceededError extends KzrError {
  /** The limit that was exceeded, as it is configured, for example `KZR_PREPROCESS_MAX_CROP_PIXELS`. */
  readonly limit: string;
  /** The limit's value. */
  readonly max: number;

  /** `what` is the amount asked for, for example `40 crops of 4096x4096 = 671088640 pixels`. */
  constructor(field: string, what: string, limit: string, max: number, options?: ErrorOptions) {
    super(ErrorKind.ResourceExhausted, `${field}: ${what} exceed ${limit} = ${max}`, {
      ...options,
      field,
      retryable: false,
    });
    this.name = 'LimitExceededError';
    this.limit = limit;
    this.max = max;
  }
}

/** An environment variable holds a value kzr cannot use. */
export class ConfigError extends KzrError {
  /** The environment variable, for example `KZR_GRPC_PORT`. */
  readonly variable: string;
  /** What would have been accepted, for example `an integer in [0, 65535]`. */
  readonly expected: string;

  constructor(variable: string, value: string, expected: string) {
    super(ErrorKind.Config, `${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`, {
      field: variable,
    });
    this.name = 'ConfigError';
    this.variable = variable;
    this.expected = expected;
  }
}
