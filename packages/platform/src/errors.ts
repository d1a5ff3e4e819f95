/**
 * Failure modes shared by every kzr package. Each class says what went wrong in a
 * machine-readable way (`kind`, `retryable`, and fields such as `field`), so callers decide
 * on the class, never on the message text.
 *
 * Packages that cannot import this one (the pure `core`) follow the same shape: an error with a
 * `kind` from {@link ErrorKind} and, for validation failures, a `field`. The gRPC error
 * interceptor and the Bus map errors by that shape.
 */

/** What kind of failure an error is; decides the gRPC status and retry behaviour. */
export const ErrorKind = {
  /** The caller sent something invalid; retrying the same input fails again. */
  Invalid: 'invalid',
  /** A named thing does not exist. */
  NotFound: 'not-found',
  /** The thing exists but is not ready yet (loading, draining); retry later. */
  Unavailable: 'unavailable',
  /** The operation ran out of time. */
  Deadline: 'deadline',
  /** The caller cancelled. */
  Cancelled: 'cancelled',
  /** The thing to create exists already (a job name, an object that must not be overwritten). */
  Conflict: 'conflict',
  /** A bounded resource is full (a queue at its limit); retry later or send less. */
  ResourceExhausted: 'resource-exhausted',
  /** The configuration is wrong; the process cannot start. */
  Config: 'config',
  /** A bug or an unexpected failure. */
  Internal: 'internal',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Base class of kzr's errors. */
export class KzrError extends Error {
  /** The failure mode. */
  readonly kind: ErrorKind;
  /** True when retrying the same operation later may succeed. */
  readonly retryable: boolean;

  constructor(kind: ErrorKind, message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.name = 'KzrError';
    this.kind = kind;
    this.retryable =
      options?.retryable ??
      (kind === ErrorKind.Unavailable || kind === ErrorKind.Deadline || kind === ErrorKind.ResourceExhausted);
  }
}

/** An argument or input is invalid; `field` names it (a dotted path such as `boxes[3].width`). */
export class ValidationError extends KzrError {
  /** The offending field, as the caller named it. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(ErrorKind.Invalid, `${field}: ${message}`, options);
    this.name = 'ValidationError';
    this.field = field;
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

/** Stored bytes do not match the sha256 they were expected to have (corruption, wrong object). */
export class IntegrityError extends KzrError {
  /** The object key. */
  readonly key: string;
  /** Hex sha256 expected. */
  readonly expected: string;
  /** Hex sha256 of the bytes read. */
  readonly actual: string;

  constructor(key: string, expected: string, actual: string) {
    super(ErrorKind.Internal, `${key}: sha256 ${actual} does not match the expected ${expected}`, { retryable: false });
    this.name = 'IntegrityError';
    this.key = key;
    this.expected = expected;
    this.actual = actual;
  }
}

/** An environment variable holds a value kzr cannot use. */
export class ConfigError extends KzrError {
  /** The environment variable, for example `KZR_GRPC_PORT`. */
  readonly variable: string;
  /** What would have been accepted, for example `an integer in [0, 65535]`. */
  readonly expected: string;

  constructor(variable: string, value: string, expected: string) {
    super(ErrorKind.Config, `${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`);
    this.name = 'ConfigError';
    this.variable = variable;
    this.expected = expected;
  }
}

/** Reads the {@link ErrorKind} of any thrown value; unknown shapes are `internal`. */
export function errorKindOf(err: unknown): ErrorKind {
  if (err instanceof KzrError) return err.kind;
  if (typeof err === 'object' && err !== null && 'kind' in err) {
    const kind = (err as { kind: unknown }).kind;
    if (Object.values(ErrorKind).includes(kind as ErrorKind)) return kind as ErrorKind;
  }
  return ErrorKind.Internal;
}

/** True for a {@link ValidationError} or any error of kind `invalid`. */
export function isValidationError(err: unknown): err is Error & { kind: 'invalid'; field?: string } {
  return err instanceof Error && errorKindOf(err) === ErrorKind.Invalid;
}

/** True for a {@link ConfigError}. */
export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
