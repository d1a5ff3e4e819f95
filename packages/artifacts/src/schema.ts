/**
 * Schema versions of the JSON documents kzr keeps in the Store (model-set manifests, filter
 * manifests, checkpoint records). A reader accepts only the versions it knows, so a file written
 * by a newer kzr fails with a clear error instead of being half understood. `getJson` and
 * `putJson` read and write those documents.
 */
import { type PutResult, type Store, ValidationError } from '@kzr/platform';

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

/**
 * Reads a JSON document from the Store (verified against `sha256` when given); a ValidationError
 * naming `field` when it is not JSON, platform's NotFoundError when it is missing.
 */
export async function getJson(store: Store, key: string, field: string, sha256?: string): Promise<unknown> {
  const bytes = await store.getBytes(key, sha256 === undefined ? {} : { sha256 });
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ValidationError(field, `${key} is not JSON`, { cause: err });
  }
}

/** Writes a JSON document (two-space indent, trailing newline); the result carries its sha256. */
export function putJson(store: Store, key: string, value: unknown): Promise<PutResult> {
  return putJsonText(store, key, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes JSON text already formatted. */
export function putJsonText(store: Store, key: string, text: string): Promise<PutResult> {
  return store.put(key, Buffer.from(text), { contentType: 'application/json' });
}
