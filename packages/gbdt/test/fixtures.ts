import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** `<repo>/../shared/data/<rel>` as a path. */
export function sharedData(rel: string): string {
  return fileURLToPath(new URL(`../../../../shared/data/${rel}`, import.meta.url));
}

export async function readShared(rel: string): Promise<string> {
  return readFile(sharedData(rel), 'utf8');
}
