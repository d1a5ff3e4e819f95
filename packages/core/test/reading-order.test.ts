import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readSharedText } from './shared-data.js';

import { createRng, parseCodhCoordinates, readingOrder, readingSequence, type Box, type Rng } from '@kzr/core';

interface GeneratedPage {
  boxes: Box[];
  /** Per box: its true column (0 = rightmost) and order. */
  truth: Array<{ column: number; order: number }>;
}

/**
 * A page of vertical text from geometry alone: columns right to left with uneven spacing, a
 * common page skew plus a small per-column lean, columns starting and ending at different
 * heights, characters of uneven size (narrow kana, wide kanji, short marks) jittered sideways.
 */
function generatePage(rng: Rng): GeneratedPage {
  const size = rng.uniform(70, 150);
  const skew = Math.tan((rng.uniform(-8, 8) * Math.PI) / 180);
  const columnCount = rng.intBetween(4, 10);
  const pageTop = 150;
  const pageBottom = pageTop + size * rng.uniform(18, 26);
  const boxes: Box[] = [];
  const truth: Array<{ column: number; order: number }> = [];
  let x = size * (2 + columnCount * 2.6);
  let order = 0;
  for (let column = 0; column < columnCount; column++) {
    const lean = skew + Math.tan((rng.uniform(-1, 1) * Math.PI) / 180);
    const columnWidth = size * rng.uniform(0.8, 1.2);
    let y = pageTop + (rng.next() < 0.3 ? size * rng.uniform(0, 8) : size * rng.uniform(0, 0.6));
    const end = pageBottom - (rng.next() < 0.4 ? size * rng.uniform(0, 10) : 0);
    const startY = y;
    do {
      const kind = rng.next();
      const width = columnWidth * (kind < 0.15 ? rng.uniform(0.25, 0.45) : rng.uniform(0.6, 1.15));
      const height = size * (kind > 0.9 ? rng.uniform(0.3, 0.5) : rng.uniform(0.6, 1.4));
      const cx = x + lean * (y + height / 2 - startY) + columnWidth * rng.uniform(-0.15, 0.15);
      boxes.push({
        x: Math.round(cx - width / 2),
        y: Math.round(y),
        width: Math.round(width),
        height: Math.round(height),
      });
      truth.push({ column, order: order++ });
      y += height + size * rng.uniform(0.03, 0.45);
    } while (y < end);
    x -= size * rng.uniform(1.6, 2.4);
  }
  const shift = Math.min(...boxes.map((b) => b.x)) - 50;
  for (const b of boxes) b.x -= shift;
  return { boxes, truth };
}

function shuffled<T>(items: readonly T[], rng: Rng): { items: T[]; from: number[] } {
  const from = rng.shuffle(items.map((_, i) => i));
  return { items: from.map((i) => items[i]!), from };
}

describe('reading order', () => {
  it('gets all 67 characters of the real CODH page right for 5 shuffles of its rows', () => {
    const chars = parseCodhCoordinates(readSharedText('codh/100241706_00004_2.coordinate.csv'));
    assert.equal(chars.length, 67);
    for (const seed of [1, 2, 3, 4, 5]) {
      const { items, from } = shuffled(chars, createRng(seed));
      const positions = readingOrder(items);
      const wrong = positions.filter((p, j) => p.order !== from[j]).length;
      assert.equal(wrong, 0, `seed ${seed}: ${wrong} characters out of place`);
      // Columns of 2, 13, 13, 13, 11 and 15 characters, 0 = rightmost.
      const sizes: number[] = [];
      for (const p of positions) sizes[p.column] = (sizes[p.column] ?? 0) + 1;
      assert.deepEqual(sizes, [2, 13, 13, 13, 11, 15]);
    }
  });

  it('places at least 99 % of characters right on generated slanted, uneven pages', () => {
    const rng = createRng(20261130);
    let total = 0;
    let right = 0;
    let rightColumn = 0;
    for (let page = 0; page < 60; page++) {
      const generated = generatePage(rng);
      const { items, from } = shuffled(generated.boxes, rng);
      const positions = readingOrder(items);
      positions.forEach((p, j) => {
        const t = generated.truth[from[j]!]!;
        total++;
        if (p.order === t.order) right++;
        if (p.column === t.column) rightColumn++;
      });
    }
    const accuracy = right / total;
    console.log(
      `reading order on generated pages: ${right}/${total} = ${(accuracy * 100).toFixed(2)} % (columns ${((rightColumn / total) * 100).toFixed(2)} %)`,
    );
    assert.ok(total > 3000, `only ${total} characters generated`);
    assert.ok(accuracy >= 0.99, `accuracy ${accuracy}`);
  });

  it('handles empty pages, a single character and a single row of columns', () => {
    assert.deepEqual(readingOrder([]), []);
    assert.deepEqual(readingOrder([{ x: 5, y: 5, width: 10, height: 10 }]), [{ column: 0, order: 0 }]);
    // Three one-character columns side by side: read right to left.
    const row = [0, 1, 2].map((k) => ({ x: 100 * k, y: 0, width: 50, height: 50 }));
    assert.deepEqual(readingSequence(row), [2, 1, 0]);
  });
});
