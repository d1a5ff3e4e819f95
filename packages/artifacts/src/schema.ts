/**
 * Schema versions of the JSON documents kzr keeps in the Store (model-set manifests, filter
 * manifests, checkpoint records). A reader accepts only the versions it knows, so a file written
 * by a newer kzr fails with a clear error instead of being half understood.
 */
import { ValidationError } from '@kzr/platform';

/** Checks that `value` is the schema version this code reads; throws a ValidationError naming `field`. */
export function checkSchemaVersion(field: string, value: unknown, supported: number): number {
  if (value !== supported) {
    throw new ValidationError(
      field,
      value === undefined
        ? `missing; this kzr reads schema version ${supported}`
        : `unknown schema version ${JSON.stringify(value)}; this kzr reads ${supported}`,
    );
  }
  return supported;
}
