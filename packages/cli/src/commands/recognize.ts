/**
 * `kzr recognize <page|folder>... --detections <sets.json> [--detections ...] [--model-set <name>]
 * [--version <v>] [--server <host:port>] [--voting hard|soft] [--threshold <p>] [--page-id <id>]
 * [--filter-version <v>] [--unfiltered] [--out-csv <file>]`: recognises pages along the page
 * path (DESIGN.md "The page path") and prints one JSON document per page (a JSON array for
 * several): the characters in reading order (code, character, box, centre, probability, detector
 * score, set, column, order, low-confidence flag), the page's text (one line per column, right to
 * left), the Kaggle labels string, the page size, the model-set version and the filter version
 * (or `unfiltered`). Detection files are detection-set JSON (one set or an array of sets,
 * `packages/core/README.md`); boxes are scaled from the set's page size to the image's (spec §5.2).
 *
 * Each page goes through `Inference.RecognizePage`: preprocessed as the model set's manifest says,
 * classified, then merged, filtered and ordered by postprocess. With `--server` that is the given
 * inference service; without it the three services start in this process (on free loopback
 * ports, over the Store of `KZR_STORE`, the asked or newest published model set loaded first)
 * and the same call goes to them, so both print the same bytes. `--out-csv` writes the pages as a
 * Kaggle submission; `--unfiltered` skips the false-positive filter and returns every merged
 * candidate with what the filter's features are computed from (box, probability, detector score,
 * page size), for fitting a filter.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

import { type RecognizePageRequest, type RecognizePageResponse, Voting } from '@kzr/api/kzr/v1/inference';
import { type DetectionSet, formatSubmissionCsv, toDetectionSet } from '@kzr/core';
import { compileGrpcClientConfig, createLogger, openAdapters } from '@kzr/platform';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { compileEmbeddedConfig } from '../config.js';
import { pageRequest, recognizeAll, startPagePath } from '../page-path.js';
import { usage } from './recognize.usage.js';

/** File extensions read as pages when a folder is given. */
const pageExtensions = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp']);

async function readSets(paths: readonly string[]): Promise<DetectionSet[]> {
  const sets: DetectionSet[] = [];
  for (const path of paths) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new UsageError('--detections', `cannot read ${path} as JSON: ${(err as Error).message}`);
    }
    for (const v of Array.isArray(value) ? value : [value]) sets.push(toDetectionSet(v, path));
  }
  return sets;
}

/** The page files named: files as given, the pages of a folder in name order. */
async function pageFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new UsageError('pages', `cannot read ${path}`);
    });
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((n) => pageExtensions.has(extname(n).toLowerCase())).sort();
    if (names.length === 0) throw new UsageError('pages', `${path} holds no page images`);
    files.push(...names.map((n) => join(path, n)));
  }
  return files;
}

/** What the command prints for a page, the same in process and with `--server`. */
function printable(res: RecognizePageResponse): Record<string, unknown> {
  return {
    pageId: res.pageId,
    servedBy: res.servedBy,
    pageWidth: res.pageWidth,
    pageHeight: res.pageHeight,
    filterVersion: res.filterVersion,
    characters: res.characters,
    text: res.text,
    kaggleLabels: res.kaggleLabels,
  };
}

/** The Kaggle submission of the recognised pages (`image_id,labels`). */
function submission(pages: readonly RecognizePageResponse[]): string {
  return formatSubmissionCsv(
    pages.map((page) => {
      const t = page.kaggleLabels === '' ? [] : page.kaggleLabels.split(' ');
      const points = [];
      for (let i = 0; i + 2 < t.length; i += 3) points.push({ code: t[i]!, x: Number(t[i + 1]), y: Number(t[i + 2]) });
      return { pageId: page.pageId, points };
    }),
  );
}

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  if (positionals.length === 0) throw new UsageError('pages', 'expected at least one page image or folder');
  const detectionPaths = (values.detections ?? []) as string[];
  if (detectionPaths.length === 0) requireFlag(values, 'detections');
  const voting = values.voting as string | undefined;
  if (voting !== undefined && voting !== 'hard' && voting !== 'soft')
    throw new UsageError('--voting', 'expected hard or soft');
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new UsageError('--threshold', `expected a probability in [0, 1], got ${String(values.threshold)}`);
  }
  const modelSet = values['model-set'] as string | undefined;
  const version = (values.version as string | undefined) ?? '';
  const files = await pageFiles(positionals);
  if (values['page-id'] !== undefined && files.length > 1) {
    throw new UsageError('--page-id', 'names one page; several were given');
  }
  const sets = await readSets(detectionPaths);
  const requests: RecognizePageRequest[] = [];
  for (const file of files) {
    const bytes = await readFile(file).catch(() => {
      throw new UsageError('pages', `cannot read ${file}`);
    });
    const pageId = (values['page-id'] as string | undefined) ?? basename(file, extname(file));
    requests.push(
      await pageRequest(
        bytes,
        sets,
        pageId,
        {
          model: { modelSet: modelSet ?? '', version },
          voting:
            voting === 'hard' ? Voting.VOTING_HARD : voting === 'soft' ? Voting.VOTING_SOFT : Voting.VOTING_UNSPECIFIED,
          lowConfidenceThreshold: threshold ?? 0,
          filterVersion: (values['filter-version'] as string | undefined) ?? '',
          unfiltered: values.unfiltered === true,
        },
        file,
      ),
    );
  }

  let pages: RecognizePageResponse[];
  if (typeof values.server === 'string') {
    pages = await recognizeAll(values.server, requests, compileGrpcClientConfig(process.env));
  } else {
    const config = compileEmbeddedConfig(process.env);
    const logger = createLogger({ level: 'warn' });
    const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-cli' });
    try {
      const path = await startPagePath(adapters.store, logger, modelSet, version);
      try {
        pages = await recognizeAll(path.endpoint, requests);
      } finally {
        await path.close();
      }
    } finally {
      await adapters.close();
    }
  }
  if (typeof values['out-csv'] === 'string') await writeFile(values['out-csv'], submission(pages));
  printJson(pages.length === 1 ? printable(pages[0]!) : pages.map(printable));
  return 0;
}
