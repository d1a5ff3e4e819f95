/**
 * `kzr data books <page-id-list>`: pages per book of a page-id list (one id per line, as
 * upstream's `train_images.list`), largest book first (ties by book id): `{"hnsd": 515, "umgy": 496, ...}`.
 */
import { countPagesByBook, InvalidArgumentError, isPageId, requireBookId } from '@kzr/core';

import { parseCommand, UsageError } from '../args.js';
import { usage } from './data-books.usage.js';
import { readTextInput } from './read-text.js';

/** Runs the command; an id without a book, a malformed id or an unreadable file exits 2. */
export async function run(args: string[]): Promise<number> {
  const { positionals } = parseCommand(usage, args);
  if (positionals.length !== 1) throw new UsageError('<page-id-list>', `expected one file, got ${positionals.length}`);
  const file = positionals[0]!;
  const lines = (await readTextInput(file, '<page-id-list>')).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const ids = lines.map((raw, i) => {
    const id = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!isPageId(id))
      throw new UsageError('<page-id-list>', `${file}:${i + 1}: invalid page id ${JSON.stringify(id)}`);
    try {
      requireBookId(id);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      throw new UsageError('<page-id-list>', `${file}:${i + 1}: ${err.message}`, { cause: err });
    }
    return id;
  });
  // Written by hand: a JS object would list numeric book ids first, in numeric order.
  const entries = [...countPagesByBook(ids)].map(([book, pages]) => `${JSON.stringify(book)}:${pages}`);
  process.stdout.write(`{${entries.join(',')}}\n`);
  return 0;
}
