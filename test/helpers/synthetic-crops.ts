// Test helper: a synthetic book dataset (packages/data) cut into character crops with the
// training padding and written as shard datasets: <dir>/train (training books) and
// <dir>/val (the held-out books, in a font family the training books do not use unless
// `seenFonts`; cut with `valPadding`, the training padding unless told, e.g. the inference
// padding the service uses).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { generateSyntheticDataset } from '@kzr/data';
import { cutCharacter, decodeImage, PaddingPolicy, ShardWriter } from '@kzr/imaging';

export interface SyntheticCrops {
  readonly train: string;
  readonly val: string;
  readonly trainCount: number;
  readonly valCount: number;
  /** Pages of the held-out books (their crops are `val`), by book. */
  readonly holdoutPages: ReadonlyArray<readonly string[]>;
}

async function writeShards(dir: string, writer: ShardWriter): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { shard, index } = writer.finish();
  if (shard) await writeFile(join(dir, shard.name), shard.bytes);
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

export async function syntheticCrops(
  dir: string,
  options: {
    classes: number;
    pagesPerBook: number;
    seed: number;
    trainBooks?: number;
    holdoutBooks?: number;
    valPadding?: PaddingPolicy;
    /** Held-out books drawn in the training books' font families (held out by book only). */
    seenFonts?: boolean;
  },
): Promise<SyntheticCrops> {
  const heldOutBooks = options.holdoutBooks ?? 1;
  const ds = await generateSyntheticDataset({
    outDir: join(dir, 'books'),
    books: (options.trainBooks ?? 3) + heldOutBooks,
    holdoutBooks: options.seenFonts === true ? 0 : heldOutBooks,
    pagesPerBook: options.pagesPerBook,
    classes: options.classes,
    seed: options.seed,
    pageWidth: 600,
    pageHeight: 800,
    glyphSize: 40,
  });
  const heldOut = ds.books.slice(ds.books.length - heldOutBooks);
  const holdout = new Set(heldOut.flatMap((b) => b.pageIds));
  const bookOf = new Map(ds.books.flatMap((b) => b.pageIds.map((p) => [p, b.bookId] as const)));
  const train = new ShardWriter();
  const val = new ShardWriter();
  let trainCount = 0;
  let valCount = 0;
  for (const page of ds.pages) {
    const image = await decodeImage(await readFile(join(ds.imagesDir, `${page.pageId}.jpg`)));
    const writer = holdout.has(page.pageId) ? val : train;
    for (const label of page.labels) {
      const policy = writer === val ? (options.valPadding ?? PaddingPolicy.Train) : PaddingPolicy.Train;
      const { image: crop } = cutCharacter(image, label, { policy });
      writer.add(crop, {
        label: label.code,
        page: page.pageId,
        book: bookOf.get(page.pageId) ?? '',
        box: [label.x, label.y, label.width, label.height],
      });
      if (writer === val) valCount++;
      else trainCount++;
    }
  }
  await writeShards(join(dir, 'train'), train);
  await writeShards(join(dir, 'val'), val);
  return {
    train: join(dir, 'train'),
    val: join(dir, 'val'),
    trainCount,
    valCount,
    holdoutPages: heldOut.map((b) => b.pageIds),
  };
}
