/**
 * Failure modes of the inference service. The gRPC layer maps them by `kind` (core's
 * {@link KzrError}): bad input → INVALID_ARGUMENT, unknown model set → NOT_FOUND, a set still
 * loading → UNAVAILABLE.
 */
import { ErrorKind, KzrError } from '@kzr/core';

/** A model set version failed to load (bad manifest, checksum, engine, warm-up); `reason` says why. */
export class ModelLoadError extends KzrError {
  /** Set and version that failed. */
  readonly modelSet: string;
  readonly version: string;

  constructor(modelSet: string, version: string, message: string, options?: ErrorOptions) {
    super(ErrorKind.Internal, `model set ${modelSet}@${version}: ${message}`, options);
    this.name = 'ModelLoadError';
    this.modelSet = modelSet;
    this.version = version;
  }
}
