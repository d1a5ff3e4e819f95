import type { CharacterResult } from '@kzr/api/kzr/v1/common';
import type { PagePredictions } from '@kzr/api/kzr/v1/postprocess';
import type { PageLabels } from '@kzr/core';
import { xorshift32 } from '@kzr/gbdt/internal';

/**
 * Seeded synthetic classified pages with their truth: characters on a grid of columns; each is
 * detected (jittered box, usually the right code with high probability) and false positives are
 * added (small or large stray boxes, wrong codes, lower probabilities).
 */
export function syntheticPages(numPages: number, seed: number): { pages: PagePredictions[]; truth: PageLabels[] } {
  const rand = xorshift32(seed);
  const codes = ['U+3042', 'U+3044', 'U+3046', 'U+4E00', 'U+4E8C', 'U+4E09'];
  const pages: PagePredictions[] = [];
  const truth: PageLabels[] = [];
  for (let p = 0; p < numPages; p++) {
    const pageId = `synth${seed}_${String(p).padStart(3, '0')}`;
    const labels: PageLabels['labels'] = [];
    const characters: CharacterResult[] = [];
    const add = (
      code: string,
      bx: number,
      by: number,
      w: number,
      h: number,
      probability: number,
      score: number,
    ): void => {
      characters.push({
        code,
        character: '',
        box: { x: bx, y: by, width: w, height: h },
        centerX: bx + w / 2,
        centerY: by + h / 2,
        probability,
        detectorScore: score,
        detectionSet: 'synthetic',
        column: 0,
        order: 0,
        lowConfidence: false,
        top: [],
      });
    };
    for (let c = 0; c < 6; c++) {
      for (let r = 0; r < 10; r++) {
        const code = codes[Math.floor(rand() * codes.length)]!;
        const bx = 40 + c * 60;
        const by = 30 + r * 45;
        labels.push({ code, x: bx, y: by, width: 40, height: 40 });
        const right = rand() < 0.85;
        const predicted = right ? code : codes[(codes.indexOf(code) + 1) % codes.length]!;
        add(
          predicted,
          bx + rand() * 6 - 3,
          by + rand() * 6 - 3,
          40,
          40,
          right ? 0.6 + 0.4 * rand() : 0.3 + 0.5 * rand(),
          0.7 + 0.3 * rand(),
        );
      }
    }
    for (let f = 0; f < 15; f++) {
      const size = rand() < 0.5 ? 8 + rand() * 8 : 70 + rand() * 30;
      add(
        codes[Math.floor(rand() * codes.length)]!,
        rand() * 380,
        rand() * 480,
        size,
        size,
        0.2 + 0.6 * rand(),
        0.3 + 0.5 * rand(),
      );
    }
    pages.push({ pageId, pageWidth: 420, pageHeight: 520, detectionSet: 'synthetic', characters });
    truth.push({ pageId, labels });
  }
  return { pages, truth };
}
