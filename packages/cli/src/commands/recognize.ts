/**
 * `kzr recognize <page> --detections <sets.json> [--detections ...] [--model-set <name>]
 * [--version <v>] [--server <host:port>] [--voting hard|soft] [--threshold <p>] [--page-id <id>]`:
 * recognises one page and prints one JSON document: the characters in reading order (code,
 * character, box, centre, probability, detector score, set, column, order, low-confidence flag),
 * the page's text (one line per column, right to left) and the Kaggle labels string, plus the
 * model set version that served it. Detection files are detection-set JSON (one set or an array
 * of sets, `packages/core/README.md`); boxes are scaled from the set's page size to the image's
 * (spec §5.2). With `--server` the inference service does the work over gRPC; without it the same
 * code runs in this process on the Store's newest published version of the set (of any set
 * without `--model-set`). The page is classified as given (a preprocessed page, as upstream).
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';

import * as grpc from '@grpc/grpc-js';
import { MediaType } from '@kzr/api/kzr/v1/common';
import { InferenceClient, type RecognizePageResponse, Voting } from '@kzr/api/kzr/v1/inference';
import { type DetectionSet, toDetectionSet } from '@kzr/core';
import { decodeImage } from '@kzr/imaging';
import { createInferenceServing, type DetectionSetInput, recognizePage } from '@kzr/inference';
import { createLogger, fromServiceError, openAdapters } from '@kzr/platform';

import { parseCommand, printJson, requireFlag, UsageError } from '../args.js';
import { usage } from './recognize.usage.js';
import { compileEmbeddedConfig } from '../config.js';

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

/** The page's detections of each set, scaled to the image size. */
function pageDetections(
  sets: readonly DetectionSet[],
  pageId: string,
  width: number,
  height: number,
): DetectionSetInput[] {
  return sets.map((set) => {
    const page = set.pages.length === 1 ? set.pages[0]! : set.pages.find((p) => p.pageId === pageId);
    if (!page) throw new UsageError('--detections', `set ${set.name} has no page ${pageId}`);
    const rx = width / page.width;
    const ry = height / page.height;
    return {
      name: set.name,
      detections: page.detections.map((d) => ({
        x: d.x * rx,
        y: d.y * ry,
        width: d.width * rx,
        height: d.height * ry,
        score: d.score,
      })),
    };
  });
}

function viaServer(
  server: string,
  request: Parameters<InferenceClient['recognizePage']>[0],
): Promise<RecognizePageResponse> {
  const client = new InferenceClient(server, grpc.credentials.createInsecure());
  return new Promise<RecognizePageResponse>((resolve, reject) => {
    client.recognizePage(request, new grpc.Metadata(), { deadline: Date.now() + 600_000 }, (err, res) => {
      client.close();
      if (err) reject(fromServiceError(err, server));
      else resolve(res);
    });
  });
}

/** Runs the command; resolves with the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(usage, args);
  const [pagePath, ...extra] = positionals;
  if (pagePath === undefined || extra.length > 0) throw new UsageError('page', 'expected exactly one page image');
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
  const pageId = (values['page-id'] as string | undefined) ?? basename(pagePath, extname(pagePath));
  const bytes = await readFile(pagePath).catch(() => {
    throw new UsageError('page', `cannot read ${pagePath}`);
  });
  const page = await decodeImage(bytes, { field: 'page' });
  const sets = pageDetections(await readSets(detectionPaths), pageId, page.width, page.height);

  if (typeof values.server === 'string') {
    const res = await viaServer(values.server, {
      model: { modelSet: modelSet ?? '', version },
      pageId,
      image: { source: { $case: 'encoded', value: { data: bytes, mediaType: MediaType.MEDIA_TYPE_UNSPECIFIED } } },
      preprocessed: true,
      detectionSets: sets.map((s) => ({
        name: s.name,
        pageId,
        detections: s.detections.map((d) => ({
          box: { x: d.x, y: d.y, width: d.width, height: d.height },
          score: d.score,
        })),
      })),
      voting:
        voting === 'hard' ? Voting.VOTING_HARD : voting === 'soft' ? Voting.VOTING_SOFT : Voting.VOTING_UNSPECIFIED,
      lowConfidenceThreshold: threshold ?? 0,
    });
    printJson({
      pageId: res.pageId,
      servedBy: res.servedBy,
      characters: res.characters,
      text: res.text,
      kaggleLabels: res.kaggleLabels,
    });
    return 0;
  }

  const config = compileEmbeddedConfig(process.env);
  const logger = createLogger({ level: 'warn' });
  const adapters = await openAdapters(config.adapters, { logger, source: 'kzr-cli' });
  try {
    await using inference = createInferenceServing({ store: adapters.store, logger });
    const target = version
      ? modelSet
        ? { modelSet, version }
        : undefined
      : await inference.registry.newestPublished(modelSet);
    if (!target) {
      throw new UsageError(
        '--model-set',
        modelSet
          ? `no published version of ${modelSet}`
          : 'no model set is published (and --version needs --model-set)',
      );
    }
    const set = await inference.registry.activate(target.modelSet, target.version);
    using lease = inference.registry.acquire(set.modelSet, set.version);
    const result = await recognizePage(lease.set, page, sets, {
      ...(voting ? { voting: voting as 'hard' | 'soft' } : {}),
      ...(threshold !== undefined ? { lowConfidenceThreshold: threshold } : {}),
    });
    printJson({
      pageId,
      servedBy: { modelSet: set.modelSet, version: set.version },
      characters: result.characters.map((c) => ({
        ...c,
        top: c.top.map((t) => ({ code: t.code, probability: t.probability })),
      })),
      text: result.text,
      kaggleLabels: result.kaggleLabels,
    });
    return 0;
  } finally {
    await adapters.close();
  }
}
