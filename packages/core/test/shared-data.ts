// Resolves real-data fixtures in the project's shared folder (<repo>/../shared/data); never copied.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file under ../shared/data. */
export function sharedDataPath(relative: string): string {
  return fileURLToPath(new URL(`../../../../shared/data/${relative}`, import.meta.url));
}

/** Reads a UTF-8 fixture under ../shared/data. */
export function readSharedText(relative: string): string {
  return readFileSync(sharedDataPath(relative), 'utf8');
}
