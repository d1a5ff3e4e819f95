import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `<repo>/../shared/data`: the real-data fixtures, read in place and never copied. */
export const sharedDataDir = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));

/** A path under the shared data folder. */
export function sharedData(...parts: string[]): string {
  return join(sharedDataDir, ...parts);
}
