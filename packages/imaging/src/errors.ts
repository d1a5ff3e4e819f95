/**
 * Errors of `@kzr/imaging`. Each failure mode has its own class; all are core's
 * {@link InvalidArgumentError} (kind `invalid`, a `field` naming the input at fault, the message
 * `field: problem`), so a service's gRPC interceptor answers INVALID_ARGUMENT and the CLI exits 2
 * without converting them.
 */
import { InvalidArgumentError } from '@kzr/core';

/** Base class of every imaging error; `field` names the input that was wrong, for example `image` or `boxes[3]`. */
export class ImagingError extends InvalidArgumentError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'ImagingError';
  }
}

/** The bytes are not an image in a supported format (JPEG, PNG, TIFF, WebP) or are corrupt. */
export class ImageDecodeError extends ImagingError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'ImageDecodeError';
  }
}

/** The image is larger than the configured pixel limit. */
export class ImageTooLargeError extends ImagingError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'ImageTooLargeError';
  }
}

/** A box or geometry argument is invalid (outside the image, zero area, bad size). */
export class GeometryError extends ImagingError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'GeometryError';
  }
}

/** A dataset shard or its index is malformed. */
export class ShardFormatError extends ImagingError {
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(field, message, options);
    this.name = 'ShardFormatError';
  }
}
