/**
 * `kzr order --labels <train.csv|coordinate.csv> --page <id>`: the reading order of one labelled page
 * (columns right to left, top to bottom): `{"pageId", "columns", "characters": [{"code", "x",
 * "y", "width", "height", "column", "order"}]}` with characters listed in reading order.
 */
import { readingOrder } from '@kzr/core';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './order.usage.js';
import { readLabelsInput } from './read-text.js';

/** Runs the command; an unknown page or a malformed CSV exits 2. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const labelsFile = requireFlag(values, 'labels');
  const pageId = requireFlag(values, 'page');
  const pages = await readLabelsInput(labelsFile, '--labels');
  const page = pages.find((p) => p.pageId === pageId);
  if (page === undefined) throw new UsageError('--page', `page "${pageId}" is not in ${labelsFile}`);
  const positions = readingOrder(page.labels);
  const characters = page.labels
    .map((label, i) => ({ ...label, ...positions[i]! }))
    .sort((a, b) => a.order - b.order)
    .map((c) => ({ code: c.code, x: c.x, y: c.y, width: c.width, height: c.height, column: c.column, order: c.order }));
  const columns = characters.length === 0 ? 0 : Math.max(...characters.map((c) => c.column)) + 1;
  printJson({ pageId, columns, characters });
  return 0;
}
