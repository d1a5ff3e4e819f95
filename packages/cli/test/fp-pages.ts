// Test helper: classified pages with a grid of true characters (big, probable) and stray false
// positives (small, less probable), with their ground truth; and the proto3 JSON
// `kzr recognize` writes for them.
import { type ClassifiedPage } from '@kzr/core/postprocess';

/** Pages with a grid of true characters (big, probable) and stray false positives (small, less probable). */
export function pages(
  count: number,
  seed: number,
): {
  pages: ClassifiedPage[];
  truth: Array<Array<{ code: string; x: number; y: number; width: number; height: number }>>;
} {
  let x = seed;
  const rand = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 4294967296;
  };
  const out: ClassifiedPage[] = [];
  const truth: Array<Array<{ code: string; x: number; y: number; width: number; height: number }>> = [];
  for (let p = 0; p < count; p++) {
    const boxes: ClassifiedPage['boxes'] = [];
    const labels: Array<{ code: string; x: number; y: number; width: number; height: number }> = [];
    for (let i = 0; i < 30; i++) {
      const bx = 20 + (i % 5) * 50;
      const by = 20 + Math.floor(i / 5) * 50;
      labels.push({ code: 'U+3042', x: bx, y: by, width: 40, height: 40 });
      boxes.push({
        code: 'U+3042',
        probability: 0.6 + 0.4 * rand(),
        score: 0.9,
        x: bx + 1,
        y: by + 1,
        width: 38,
        height: 38,
      });
    }
    for (let i = 0; i < 10; i++) {
      boxes.push({
        code: 'U+3044',
        probability: 0.1 + 0.5 * rand(),
        score: 0.4,
        x: rand() * 250,
        y: rand() * 300,
        width: 10,
        height: 10,
      });
    }
    out.push({ pageId: `book_${seed}_${p}`, width: 300, height: 360, boxes });
    truth.push(labels);
  }
  return { pages: out, truth };
}

/** The pages as `{"pages": [PagePredictions…]}` proto3 JSON. */
export function predictionsJson(list: readonly ClassifiedPage[]): string {
  return JSON.stringify({
    pages: list.map((page) => ({
      pageId: page.pageId,
      pageWidth: page.width,
      pageHeight: page.height,
      characters: page.boxes.map((b) => ({
        code: b.code,
        probability: b.probability,
        detectorScore: b.score,
        box: { x: b.x, y: b.y, width: b.width, height: b.height },
      })),
    })),
  });
}

/** The ground truth as a Kaggle `train.csv`. */
export function truthCsv(list: readonly ClassifiedPage[], truth: ReturnType<typeof pages>['truth']): string {
  const rows = list.map(
    (page, i) => `${page.pageId},${truth[i]!.map((l) => `${l.code} ${l.x} ${l.y} ${l.width} ${l.height}`).join(' ')}`,
  );
  return `image_id,labels\n${rows.join('\n')}\n`;
}
