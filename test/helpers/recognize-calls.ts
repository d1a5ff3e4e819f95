// Test helper: a RecognizePage client that keeps calling while a test changes what is served,
// and remembers the version that answered last and every call that failed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import * as grpc from '@grpc/grpc-js';
import type { InferenceClient, RecognizePageRequest } from '@kzr/api/kzr/v1/inference';
import { toDetectionSet } from '@kzr/core';

/** Waits until `check` holds, every 200 ms. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** A RecognizePage request of `modelSet` (the served version) for the first page of a synthetic `books` folder, with its detection sets. */
export async function recognizeRequest(books: string, modelSet: string): Promise<RecognizePageRequest> {
  const pageId = (await readFile(join(books, 'train.csv'), 'utf8')).split('\n')[1]!.split(',')[0]!;
  const sets = await Promise.all(
    ['det-a', 'det-b'].map(async (name) =>
      toDetectionSet(JSON.parse(await readFile(join(books, 'detections', `${name}.json`), 'utf8')), name),
    ),
  );
  return {
    model: { modelSet, version: '' },
    pageId,
    image: {
      source: {
        $case: 'encoded',
        value: { data: await readFile(join(books, 'train_images', `${pageId}.jpg`)), mediaType: 0 },
      },
    },
    preprocessed: false,
    detectionSets: sets.map((set) => ({
      name: set.name,
      pageId,
      detections: set.pages
        .find((p) => p.pageId === pageId)!
        .detections.map((d) => ({ box: { x: d.x, y: d.y, width: d.width, height: d.height }, score: d.score })),
    })),
    voting: 0,
    lowConfidenceThreshold: 0,
    filterVersion: '',
    unfiltered: false,
    tta: false,
  };
}

/** How {@link callContinuously} paces its calls. */
export interface CallPace {
  /** The pause between calls: from one answer to the next call, or between sends when `overlapping`. */
  readonly everyMs: number;
  /** Send on the clock, not waiting for the answer before (a fixed call rate, as a client fleet sends). */
  readonly overlapping: boolean;
}

/**
 * Calls RecognizePage (each call with a 10 s deadline) at `pace` until stopped; remembers the
 * version that answered last, each failure (with when it was sent) and the slowest answer.
 */
export function callContinuously(client: InferenceClient, request: RecognizePageRequest, pace: CallPace) {
  let last: string | undefined;
  let calls = 0;
  let slowestMs = 0;
  let running = true;
  const failures: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const begun = Date.now();
  const call = (): Promise<void> => {
    calls++;
    const sent = Date.now();
    const done = new Promise<void>((resolve) =>
      client.recognizePage(request, new grpc.Metadata(), { deadline: sent + 10_000 }, (err, res) => {
        // When it was sent (seconds since the first call), to line a failure up with what the test did then.
        if (err) failures.push(`at ${((sent - begun) / 1000).toFixed(1)} s: ${err.message}`);
        else last = res.servedBy?.version;
        slowestMs = Math.max(slowestMs, Date.now() - sent);
        resolve();
      }),
    ).then(() => void inFlight.delete(done));
    inFlight.add(done);
    return done;
  };
  const loop = (async () => {
    while (running) {
      const done = call();
      if (!pace.overlapping) await done;
      await sleep(pace.everyMs);
    }
  })();
  return {
    last: () => last,
    until: (what: string, accept: (version: string | undefined) => boolean, timeoutMs?: number) =>
      until(what, async () => accept(last), timeoutMs),
    /** Stops calling; resolves once the calls in flight have answered. */
    stop: async () => {
      running = false;
      await loop;
      await Promise.all([...inFlight]);
      return { calls, failures, slowestMs };
    },
  };
}
