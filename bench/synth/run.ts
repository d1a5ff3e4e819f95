/**
 * bench/synth: how long the synthetic-books generator takes for the acceptance size
 * (3 books x 10 pages x 40 classes, default 800x1200 pages) on this machine, against a
 * reference measured in the same run: sharp encoding the same number of plain noisy pages of
 * the same size as JPEG (the floor no generator can beat). Prints the wall time, pages per
 * second and the ratio to the reference; acceptance is under 60 s on 2 cores.
 *
 *   npx tsx bench/synth/run.ts [--books 3] [--holdout-books 0] [--pages-per-book 10] [--classes 40] [--seed 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { generateSyntheticDataset, SyntheticDefaults } from '@kzr/data';
import sharp from 'sharp';

const { values: flags } = parseArgs({
  options: {
    books: { type: 'string', default: '3' },
    'holdout-books': { type: 'string', default: '0' },
    'pages-per-book': { type: 'string', default: '10' },
    classes: { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
  },
});
const books = Number(flags.books);
const pagesPerBook = Number(flags['pages-per-book']);
const pages = books * pagesPerBook;
const { pageWidth: W, pageHeight: H } = SyntheticDefaults;

const dir = mkdtempSync(join(tmpdir(), 'kzr-bench-synth-'));
try {
  // Reference: encode `pages` noisy RGB pages of the same size to JPEG, two at a time.
  const t0 = performance.now();
  const rgb = Buffer.alloc(W * H * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = 200 + ((i * 2654435761) >>> 27);
  for (let p = 0; p < pages; p += 2) {
    await Promise.all(
      [p, p + 1]
        .filter((k) => k < pages)
        .map(() =>
          sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
            .jpeg({ quality: 90 })
            .toBuffer(),
        ),
    );
  }
  const referenceS = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const dataset = await generateSyntheticDataset({
    outDir: join(dir, 'books'),
    books,
    holdoutBooks: Number(flags['holdout-books']),
    pagesPerBook,
    classes: Number(flags.classes),
    seed: Number(flags.seed),
  });
  const generateS = (performance.now() - t1) / 1000;
  const characters = dataset.pages.reduce((sum, page) => sum + page.labels.length, 0);

  console.log(
    JSON.stringify({
      cpus: availableParallelism(),
      books,
      pagesPerBook,
      classes: dataset.classes.length,
      page: `${W}x${H}`,
      characters,
      generateSeconds: Number(generateS.toFixed(2)),
      pagesPerSecond: Number((pages / generateS).toFixed(2)),
      referenceJpegOnlySeconds: Number(referenceS.toFixed(2)),
      ratioToReference: Number((generateS / referenceS).toFixed(1)),
      underOneMinute: generateS < 60,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
