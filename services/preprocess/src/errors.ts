/** Errors of the preprocess service: imaging failures become validation errors (INVALID_ARGUMENT). */
import { isImagingError } from '@kzr/imaging';
import { ValidationError } from '@kzr/platform';

/** Rethrows an imaging error as a ValidationError naming the same field; other errors unchanged. */
export function asValidationError(err: unknown): unknown {
  if (isImagingError(err)) return new ValidationError(err.field, err.message, { cause: err });
  return err;
}

/** Runs `fn`, turning imaging errors into ValidationErrors. */
export async function validating<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asValidationError(err);
  }
}
