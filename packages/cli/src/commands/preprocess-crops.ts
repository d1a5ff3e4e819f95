/**
 * `kzr preprocess crops --labels <train.csv|coordinate.csv> --images <dir> --out <dir> --policy train|infer|pseudo
 * [--size <S>] [--channels 1|3]`: cuts every labelled character out of its page (decoded once)
 * with the policy's padding (spec §2.2), optionally resized to S×S (PIL bicubic) and grayscale,
 * as `<out>/<U+XXXX>/<page>_<k>.png` (imaging's `cropFileName`, the name `kzr data split` lists)
 * plus `<out>/crops.csv` (`label,path`).
 * Pages are found as `<images>/<page>.{png,jpg,jpeg,tif,tiff,webp}`. Everything goes to a
 * staging folder renamed into place at the end, so a failure leaves nothing behind (and the staging
 * a killed run left, `<out>.partial-<pid>`, is removed by the next run).
 * Prints `{pages, crops, seconds, cropsPerSecond}`.
 */
import { access, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { cropFileName, cutCharacter, decodeImage, encodePng, PaddingPolicy } from '@kzr/imaging';

import { intFlag, parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { makeFolder, stagingPath, sweepStaging } from './output.js';
import { usage } from './preprocess-crops.usage.js';
import { readLabelsInput } from './read-text.js';

const extensions = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp'];

async function findPage(dir: string, pageId: string): Promise<string> {
  for (const ext of extensions) {
    const path = join(dir, `${pageId}${ext}`);
    try {
      await access(path);
      return path;
    } catch {
      // try the next extension
    }
  }
  throw new UsageError('--images', `no image for page ${pageId} in ${dir}`);
}

/** Runs the command; bad flags, labels, images or boxes exit 2 and leave `--out` untouched. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommand(usage, args);
  const labelsPath = requireFlag(values, 'labels');
  const imagesDir = requireFlag(values, 'images');
  const outDir = requireFlag(values, 'out');
  const policy = requireFlag(values, 'policy');
  if (!(Object.values(PaddingPolicy) as string[]).includes(policy)) {
    throw new UsageError('--policy', `expected train, infer or pseudo, got ${JSON.stringify(policy)}`);
  }
  const size = values['size'] === undefined ? undefined : intFlag(values, 'size', 0, 1, 4096);
  const channels = intFlag(values, 'channels', 3, 1, 3);
  if (channels !== 1 && channels !== 3) throw new UsageError('--channels', `expected 1 or 3, got ${channels}`);
  const existing = await readdir(outDir).catch(() => [] as string[]);
  if (existing.length > 0) throw new UsageError('--out', `${outDir} exists and is not empty`);
  const pages = await readLabelsInput(labelsPath, '--labels');
  const paths = await Promise.all(pages.map((p) => findPage(imagesDir, p.pageId)));

  // A killed run's staging would otherwise stay for good.
  await sweepStaging(outDir);
  const staging = stagingPath(outDir);
  const started = performance.now();
  let crops = 0;
  const list: string[] = ['label,path'];
  try {
    await makeFolder(staging, '--out');
    for (const [i, page] of pages.entries()) {
      const image = await decodeImage(await readFile(paths[i]!), { field: paths[i]! });
      for (const [k, label] of page.labels.entries()) {
        const cut = cutCharacter(image, label, {
          policy: policy as PaddingPolicy,
          size,
          channels: channels as 1 | 3,
          field: `${page.pageId}.labels[${k}]`,
        });
        const rel = cropFileName(label.code, page.pageId, k);
        await mkdir(dirname(join(staging, rel)), { recursive: true });
        await writeFile(join(staging, rel), await encodePng(cut.image, { compressionLevel: 1 }));
        list.push(`${label.code},${rel}`);
        crops++;
      }
    }
    await writeFile(join(staging, 'crops.csv'), `${list.join('\n')}\n`);
    await rmdir(outDir).catch(() => undefined);
    await rename(staging, outDir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  printJson({
    pages: pages.length,
    crops,
    seconds: Number(seconds.toFixed(3)),
    cropsPerSecond: Math.round(crops / seconds),
  });
  return 0;
}
