/**
 * Book ids from page ids (spec §1.2): the numeric prefix before `_` or `-`
 * (`100241706_00004_2` -> `100241706`, `200021660-00075_1` -> `200021660`), else a lower-case
 * letter prefix followed by a digit (`brsk004-014` -> `brsk`). Ids with neither, such as the
 * test pages `test_3a49bd0a`, have no book.
 */
import { InvalidArgumentError } from './errors.js';

const numericBook = /^(\d+)[_-]/;
const letterBook = /^([a-z]+)\d/;

/** The book of a page, or `undefined` when the id carries none (for example `test_3a49bd0a`). */
export function bookIdOf(pageId: string): string | undefined {
  return numericBook.exec(pageId)?.[1] ?? letterBook.exec(pageId)?.[1];
}

/** The book of a page; throws an {@link InvalidArgumentError} (`field` = `pageId`) when it has none. */
export function requireBookId(pageId: string): string {
  const book = bookIdOf(pageId);
  if (book === undefined) {
    throw new InvalidArgumentError(
      'pageId',
      `"${pageId}" carries no book id (expected "<digits>_..." or "<letters><digit>...")`,
    );
  }
  return book;
}

/**
 * Pages per book, largest first (ties by book id in string order). Every id must carry a book;
 * the first that does not is named in the error.
 */
export function countPagesByBook(pageIds: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of pageIds) {
    const book = requireBookId(id);
    counts.set(book, (counts.get(book) ?? 0) + 1);
  }
  const sorted = [...counts].sort(([a, ca], [b, cb]) => cb - ca || compareCodeStrings(a, b));
  return new Map(sorted);
}

/** Compares two strings by UTF-16 code units, as Python's `sorted` does for ASCII ids. */
export function compareCodeStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
