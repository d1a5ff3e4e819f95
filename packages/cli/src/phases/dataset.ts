/**
 * A run's dataset as its phases read it from the Store: the pages (by book), the labels, the
 * detection sets, and which pages are val pages (a split's val book: the filters are fitted
 * there) and which are test pages (the run's test books: pseudo-labelled and scored, their labels
 * used only for scoring).
 */
import { datasetDetectionsKey, datasetDetectionsPrefix, datasetLabelsKey, datasetPagesPrefix } from '@kzr/artifacts';
import { type CharLabel, type DetectionSet, parseTrainCsv, requireBookId, toDetectionSet } from '@kzr/core';
import type { RunSpec } from '@kzr/pipeline';
import type { Store } from '@kzr/platform';

export interface PhaseDataset {
  /** Page id -> Store key of its image. */
  readonly pageKeys: ReadonlyMap<string, string>;
  /** Page id -> its labelled characters. */
  readonly truth: ReadonlyMap<string, readonly CharLabel[]>;
  readonly detectionSets: readonly DetectionSet[];
  /** Pages of the splits' val books, sorted. */
  readonly valPages: readonly string[];
  /** Pages of the test books, sorted. */
  readonly testPages: readonly string[];
}

/** The stored pages of dataset `name`: page id -> Store key of its image. */
export async function readDatasetPageKeys(store: Store, name: string): Promise<Map<string, string>> {
  const pagesPrefix = datasetPagesPrefix(name);
  const pageKeys = new Map<string, string>();
  for (const info of await store.list(pagesPrefix)) {
    const file = info.key.slice(pagesPrefix.length);
    pageKeys.set(file.slice(0, file.lastIndexOf('.')), info.key);
  }
  return pageKeys;
}

/** The detection sets of dataset `name`, in key order. */
export async function readDatasetDetectionSets(store: Store, name: string): Promise<DetectionSet[]> {
  const detectionsPrefix = datasetDetectionsPrefix(name);
  const detectionSets: DetectionSet[] = [];
  for (const info of (await store.list(detectionsPrefix)).sort((a, b) => a.key.localeCompare(b.key))) {
    const set = info.key.slice(detectionsPrefix.length).replace(/\.json$/, '');
    const key = datasetDetectionsKey(name, set);
    detectionSets.push(toDetectionSet(JSON.parse((await store.getBytes(key)).toString('utf8')), key));
  }
  return detectionSets;
}

/** Reads the dataset `name` of a run with `spec`. */
export async function readPhaseDataset(store: Store, name: string, spec: RunSpec): Promise<PhaseDataset> {
  const pageKeys = await readDatasetPageKeys(store, name);
  const labelsKey = datasetLabelsKey(name);
  const truth = new Map(
    parseTrainCsv((await store.getBytes(labelsKey)).toString('utf8'), labelsKey).map((p) => [p.pageId, p.labels]),
  );
  const detectionSets = await readDatasetDetectionSets(store, name);
  const valBooks = new Set(spec.split.splits.map((s) => s.valBook));
  const testBooks = new Set(spec.split.testBooks);
  const pages = [...pageKeys.keys()].sort();
  return {
    pageKeys,
    truth,
    detectionSets,
    valPages: pages.filter((p) => valBooks.has(requireBookId(p))),
    testPages: pages.filter((p) => testBooks.has(requireBookId(p))),
  };
}
