/**
 * Errors of `@kzr/imaging`. Each failure mode has its own class with a machine-readable
 * `field`; callers (the preprocess service) map them to INVALID_ARGUMENT.
 */

/** Base class of every imaging error; `field` names the input that was wrong. */
export class ImagingError extends Error {
  /** The input at fault, for example `image` or `boxes[3]`. */
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImagingError';
    this.field = field;
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

/** True when `err` is any {@link ImagingError}. */
export function isImagingError(err: unknown): err is ImagingError {
  return err instanceof ImagingError;
}
