/**
 * What the live page reads and does, over the adapters `kzr start` opened: runs from their
 * records (as `kzr run list` reads them without a trainer), reports and phase logs, model-set
 * versions with promote and rollback (as `kzr model promote|rollback`), the retraining request
 * (as `kzr retrain`) and RecognizePage on the running inference service (as `kzr recognize
 * --server`). Bad input throws a ValidationError naming the field.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

import type { CharacterResult } from '@kzr/api/kzr/v1/common';
import { type RecognizePageResponse, Voting } from '@kzr/api/kzr/v1/inference';
import {
  announceServedVersion,
  checkSegment,
  datasetLabelsKey,
  listModelSetVersions,
  listRuns,
  type ModelSetVersionInfo,
  promoteVersion,
  readRunRecord,
  resultKey,
  rollbackVersion,
} from '@kzr/artifacts';
import { bookIdOf, type DetectionSet, parseTrainCsv, toDetectionSet } from '@kzr/core';
import { buildPhaseGraph, isFinalRunStatus, parsePhaseId, reduceRunState, RunStatus } from '@kzr/pipeline';
import { type Bus, type GrpcClientConfig, NotFoundError, type Store, ValidationError } from '@kzr/platform';
import { checkRunName, loadRunSpec, newRunName, type RunSummary, summarizeRun } from '@kzr/trainer';

import { pageRequest, recognizeAll } from '../page-path.js';
import { readDatasetDetectionSets, readDatasetPageKeys } from '../phases/dataset.js';
import { jobLogFile } from '../runs/job-logs.js';
import { requestTraining } from '../runs/request.js';

/** The runs the page lists: the newest first. */
const listedRuns = 20;

/** A run as the page shows it: its summary and whether its report is written. */
export interface RunView extends RunSummary {
  readonly report: boolean;
}

/** A recognised page as the page draws it: the kept characters in reading order and the filter's removals. */
export interface RecognizedPage {
  readonly pageId: string;
  readonly servedBy: RecognizePageResponse['servedBy'];
  readonly pageWidth: number;
  readonly pageHeight: number;
  readonly filterVersion: string;
  readonly text: string;
  readonly characters: readonly CharacterResult[];
  /** Candidates the false-positive filter removed (none when no filter is published). */
  readonly removed: readonly CharacterResult[];
}

/** What the API runs on. */
export interface LivePageDeps {
  readonly store: Store;
  readonly bus: Bus;
  /** The inference service RecognizePage goes to, and how this process calls it. */
  readonly inference: string;
  readonly grpcClient: GrpcClientConfig;
  /** The local JobRunner's log folder; undefined when phases run as Kubernetes Jobs. */
  readonly logDir: string | undefined;
}

type Body = Record<string, unknown>;

/** `body[name]` as a non-empty string, else a ValidationError naming it. */
function text(body: Body, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new ValidationError(name, 'expected a non-empty string');
  return value;
}

/** `body[name]` when given, as a string. */
function optionalText(body: Body, name: string): string | undefined {
  return body[name] === undefined || body[name] === '' ? undefined : text(body, name);
}

/** The key of a character candidate: its box and code (kept and unfiltered answers share both). */
function candidateKey(c: CharacterResult): string {
  const b = c.box;
  return `${c.code} ${b?.x} ${b?.y} ${b?.width} ${b?.height}`;
}

/** The live page's reads and actions. */
export class LivePageApi {
  readonly #deps: LivePageDeps;
  /** Summaries of succeeded runs, which no longer change (a failed or cancelled one may be resumed). */
  readonly #finished = new Map<string, RunView>();

  constructor(deps: LivePageDeps) {
    this.#deps = deps;
  }

  /** The newest runs, newest first, each with its phases. */
  async runs(): Promise<RunView[]> {
    const { store } = this.#deps;
    const views: RunView[] = [];
    for (const name of await listRuns(store)) {
      const known = this.#finished.get(name);
      if (known !== undefined) {
        views.push(known);
        continue;
      }
      const record = await readRunRecord(store, name).catch(() => undefined);
      if (record === undefined) continue;
      const summary = summarizeRun(record, reduceRunState(buildPhaseGraph(record.spec), record.events));
      const final = isFinalRunStatus(summary.status);
      const report =
        final &&
        (await store.stat(resultKey(name, 'report.html')).then(
          () => true,
          () => false,
        ));
      const view = { ...summary, report };
      if (summary.status === RunStatus.Succeeded) this.#finished.set(name, view);
      views.push(view);
    }
    return views.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, listedRuns);
  }

  /** A run's report (`results/<run>/report.html`). */
  report(run: string): Promise<Buffer> {
    return this.#deps.store.getBytes(resultKey(checkRunName('run', run), 'report.html'));
  }

  /** The log of one attempt of a run's phase (`<phase>` or `<phase>/<model>`), as `kzr run logs` prints it. */
  async phaseLog(run: string, phase: string, attempt: number): Promise<Buffer> {
    if (this.#deps.logDir === undefined) throw new NotFoundError(`phase logs (phases run as Kubernetes Jobs)`);
    parsePhaseId(phase, 'phase');
    if (!Number.isInteger(attempt) || attempt < 1) throw new ValidationError('attempt', 'expected an integer from 1');
    // The file is named by the phase's Job: letters, digits and dashes only, so it stays in the log folder.
    const file = jobLogFile(this.#deps.logDir, checkRunName('run', run), phase, attempt);
    return readFile(file).catch((err: unknown) => {
      throw new NotFoundError(`log of ${run} ${phase} attempt ${attempt}`, { cause: err });
    });
  }

  /** Every published model-set version, which one is served and whether it was promoted. */
  models(): Promise<ModelSetVersionInfo[]> {
    return listModelSetVersions(this.#deps.store);
  }

  /** Promotes `{modelSet, version}` and announces it, so inference swaps to it. */
  async promote(body: Body): Promise<{ modelSet: string; served: string }> {
    const modelSet = checkSegment('modelSet', text(body, 'modelSet'));
    const version = checkSegment('version', text(body, 'version'));
    const promotion = await promoteVersion(this.#deps.store, modelSet, version);
    await announceServedVersion(this.#deps.bus, modelSet, promotion.version);
    return { modelSet, served: promotion.version };
  }

  /** Rolls `{modelSet}` back to the version served before, and announces it. */
  async rollback(body: Body): Promise<{ modelSet: string; served: string }> {
    const modelSet = checkSegment('modelSet', text(body, 'modelSet'));
    const promotion = await rollbackVersion(this.#deps.store, modelSet);
    await announceServedVersion(this.#deps.bus, modelSet, promotion.version);
    return { modelSet, served: promotion.version };
  }

  /** Sends `kzr.training.requested` for `{dataset, preset}` (a stored dataset); the run is named by a new request id. */
  async retrain(body: Body): Promise<{ run: string; duplicate: boolean }> {
    const dataset = checkSegment('dataset', text(body, 'dataset'));
    const preset = optionalText(body, 'preset') ?? 'default';
    // The trainer shares this Store: a dataset it would refuse is refused here, before any request.
    await this.#deps.store.stat(datasetLabelsKey(dataset)).catch(() => {
      throw new ValidationError('dataset', `no dataset "${dataset}" in the Store (store it with kzr data ingest)`);
    });
    // Read here, so that a bad preset fails now rather than in the trainer.
    await loadRunSpec({ preset }, 'preset');
    const run = newRunName();
    const result = await requestTraining(this.#deps.bus, { requestId: run, dataset, preset });
    return { run, duplicate: result.duplicate };
  }

  /**
   * The pages of a stored dataset to pick from: the held-out ones, those of the test books of the
   * runs trained on it (no phase fits on them); without such a run, those without ground truth
   * in its labels (Kaggle's test pages); else every page.
   */
  async pages(dataset: string): Promise<string[]> {
    const { store } = this.#deps;
    const pages = [...(await readDatasetPageKeys(store, checkSegment('dataset', dataset))).keys()].sort();
    const testBooks = new Set<string>();
    for (const name of await listRuns(store)) {
      const record = await readRunRecord(store, name).catch(() => undefined);
      if (record?.spec.dataset.name === dataset) for (const book of record.spec.split.testBooks) testBooks.add(book);
    }
    if (testBooks.size > 0) return pages.filter((p) => testBooks.has(bookIdOf(p) ?? ''));
    const labels = await store
      .getBytes(datasetLabelsKey(dataset))
      .then((b) => new Set(parseTrainCsv(b.toString('utf8')).map((p) => p.pageId)))
      .catch(() => new Set<string>());
    const unlabelled = pages.filter((p) => !labels.has(p));
    return unlabelled.length > 0 ? unlabelled : pages;
  }

  /** A stored page's image: its bytes and media type. */
  async pageImage(dataset: string, page: string): Promise<{ bytes: Buffer; mediaType: string }> {
    checkSegment('page', page);
    const found = (await readDatasetPageKeys(this.#deps.store, checkSegment('dataset', dataset))).get(page);
    if (found === undefined) throw new NotFoundError(`page ${page} of dataset ${dataset}`);
    const ext = extname(found).toLowerCase();
    const mediaType = ext === '.png' ? 'image/png' : ext === '.webp' ? 'image/webp' : 'image/jpeg';
    return { bytes: await this.#deps.store.getBytes(found), mediaType };
  }

  /**
   * Recognises `{image (base64), detections (a detection set or an array of sets), pageId?}` or
   * `{dataset, page}` (a stored page with the dataset's detection sets) with the served model
   * set (or `modelSet`); with a filter served, asks once more unfiltered for what it removed.
   */
  async recognize(body: Body): Promise<RecognizedPage> {
    const { bytes, sets, pageId } =
      body['dataset'] !== undefined ? await this.#storedPage(body) : this.#uploadedPage(body);
    const options = {
      model: { modelSet: optionalText(body, 'modelSet') ?? '', version: '' },
      voting: Voting.VOTING_UNSPECIFIED,
      lowConfidenceThreshold: 0,
      filterVersion: '',
      unfiltered: false,
    };
    const call = async (unfiltered: boolean): Promise<RecognizePageResponse> => {
      const request = await pageRequest(bytes, sets, pageId, { ...options, unfiltered }, 'image');
      const [page] = await recognizeAll(this.#deps.inference, [request], this.#deps.grpcClient);
      return page!;
    };
    const kept = await call(false);
    const all = kept.filterVersion === 'unfiltered' ? kept : await call(true);
    const keptKeys = new Set(kept.characters.map(candidateKey));
    return {
      pageId: kept.pageId,
      servedBy: kept.servedBy,
      pageWidth: kept.pageWidth,
      pageHeight: kept.pageHeight,
      filterVersion: kept.filterVersion,
      text: kept.text,
      characters: kept.characters,
      removed: all.characters.filter((c) => !keptKeys.has(candidateKey(c))),
    };
  }

  #uploadedPage(body: Body): { bytes: Buffer; sets: DetectionSet[]; pageId: string } {
    const bytes = Buffer.from(text(body, 'image'), 'base64');
    if (bytes.length === 0) throw new ValidationError('image', 'expected the page image in base64');
    const detections = body['detections'];
    if (detections === undefined)
      throw new ValidationError('detections', 'expected a detection set or an array of sets');
    const sets = (Array.isArray(detections) ? detections : [detections]).map((v, i) =>
      toDetectionSet(v, `detections[${i}]`),
    );
    const pageId = checkSegment('pageId', optionalText(body, 'pageId') ?? sets[0]?.pages[0]?.pageId ?? 'page');
    return { bytes, sets, pageId };
  }

  async #storedPage(body: Body): Promise<{ bytes: Buffer; sets: DetectionSet[]; pageId: string }> {
    const dataset = checkSegment('dataset', text(body, 'dataset'));
    const pageId = checkSegment('page', text(body, 'page'));
    const { bytes } = await this.pageImage(dataset, pageId);
    // Only the sets that cover the page, with only that page.
    const sets = (await readDatasetDetectionSets(this.#deps.store, dataset))
      .filter((set) => set.pages.some((p) => p.pageId === pageId))
      .map((set) => ({ ...set, pages: set.pages.filter((p) => p.pageId === pageId) }));
    if (sets.length === 0) throw new ValidationError('page', `no detection set of ${dataset} covers ${pageId}`);
    return { bytes, sets, pageId };
  }
}
