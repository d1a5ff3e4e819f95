/**
 * Reading the text inputs of the commands: a file that cannot be read becomes a
 * {@link UsageError} naming the flag (exit 2), never a stack trace.
 */
import { readFile } from 'node:fs/promises';

import { UsageError } from '../args.js';

/** Reads a UTF-8 file named by `field` (a flag such as `--labels`, or `<page-id-list>`). */
export async function readTextInput(path: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(field, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
