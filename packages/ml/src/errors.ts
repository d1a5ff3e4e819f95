/**
 * Failure modes of the ML engine. Each extends core's {@link KzrError}: a machine-readable
 * `kind` (`invalid`, `not-found`, `unavailable`, `internal`), a `retryable` flag and, for
 * validation failures, the offending `field`.
 */
import { ErrorKind, KzrError, type KzrErrorOptions } from '@kzr/core';

/** Base class of the ML engine's errors. */
export class MlError extends KzrError {
  constructor(kind: ErrorKind, message: string, options?: KzrErrorOptions) {
    super(kind, message, options);
    this.name = 'MlError';
  }
}

/** A model config, a tensor shape or an input is invalid; `field` names it. */
export class MlValidationError extends MlError {
  /** The offending field, for example `config.arch` or `crops[3]`. */
  declare readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(ErrorKind.Invalid, `${field}: ${message}`, { ...options, field });
    this.name = 'MlValidationError';
  }
}

/** A requested TensorFlow.js backend cannot be loaded or initialised. */
export class BackendUnavailableError extends MlError {
  /** The backend that failed (`gpu`, `node`, `wasm`, `cpu`). */
  readonly backend: string;

  constructor(backend: string, message: string, options?: ErrorOptions) {
    super(ErrorKind.Unavailable, message, { ...options, retryable: false });
    this.name = 'BackendUnavailableError';
    this.backend = backend;
  }
}

/** Training produced a NaN or infinite loss; the run stops and keeps the last good checkpoint. */
export class NonFiniteLossError extends MlError {
  /** Epoch (0-based) of the offending iteration. */
  readonly epoch: number;
  /** Iteration within the epoch (0-based). */
  readonly iteration: number;
  /** The loss value (NaN or ±Infinity). */
  readonly loss: number;

  constructor(epoch: number, iteration: number, loss: number) {
    super(
      ErrorKind.Internal,
      `training loss became ${loss} at epoch ${epoch}, iteration ${iteration}; stopped, the last good checkpoint is kept`,
    );
    this.name = 'NonFiniteLossError';
    this.epoch = epoch;
    this.iteration = iteration;
    this.loss = loss;
  }
}

/** A checkpoint is missing or does not match the model it is loaded into. */
export class CheckpointError extends MlError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorKind.NotFound, message, options);
    this.name = 'CheckpointError';
  }
}

/** A model cannot be written to ONNX (an unknown architecture or a layout the exporter does not know). */
export class OnnxExportError extends MlError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorKind.Internal, `ONNX export: ${message}`, options);
    this.name = 'OnnxExportError';
  }
}

/** True when `err` is a {@link NonFiniteLossError}. */
export function isNonFiniteLossError(err: unknown): err is NonFiniteLossError {
  return err instanceof NonFiniteLossError;
}
