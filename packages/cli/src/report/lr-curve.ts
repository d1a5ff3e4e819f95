/**
 * The learning rate per epoch as an inline SVG chart (axes, units, legend), beside ml's loss and
 * top-1 chart (`curveSvg`), which has no room for a third scale.
 */
import type { EpochMetrics } from '@kzr/ml';

/** A line chart of `history`'s learning rate by epoch. */
export function lrCurveSvg(history: readonly EpochMetrics[], width = 360, height = 360): string {
  const m = { left: 72, right: 16, top: 40, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const epochs = Math.max(1, history.at(-1)?.epoch ?? 1);
  const max = Math.max(...history.map((e) => e.lr), 1e-12);
  const x = (epoch: number): number => m.left + (epochs === 1 ? w / 2 : ((epoch - 1) / (epochs - 1)) * w);
  const y = (v: number): number => m.top + h - (v / max) * h;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="lr" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<path d="M${m.left},${m.top}V${m.top + h}H${m.left + w}" stroke="black" fill="none"/>`,
  ];
  const step = Math.max(1, Math.ceil(epochs / 6));
  for (let e = 1; e <= epochs; e += step) {
    parts.push(`<text x="${x(e)}" y="${m.top + h + 16}" text-anchor="middle">${e}</text>`);
  }
  for (const f of [0, 0.5, 1]) {
    parts.push(
      `<line x1="${m.left}" y1="${y(max * f)}" x2="${m.left + w}" y2="${y(max * f)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${y(max * f) + 4}" text-anchor="end">${(max * f).toExponential(1)}</text>`,
    );
  }
  const points = history.map((e) => [x(e.epoch).toFixed(1), y(e.lr).toFixed(1)] as const);
  if (points.length > 1) {
    parts.push(
      `<polyline points="${points.map((p) => p.join(',')).join(' ')}" fill="none" stroke="#e08a00" stroke-width="2"/>`,
    );
  }
  for (const [px, py] of points) parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="#e08a00"/>`);
  parts.push(
    `<text x="${m.left + w / 2}" y="${height - 8}" text-anchor="middle">epoch</text>`,
    `<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">learning rate (last step of the epoch)</text>`,
    `<line x1="${m.left + 8}" y1="${m.top - 16}" x2="${m.left + 28}" y2="${m.top - 16}" stroke="#e08a00" stroke-width="2"/>`,
    `<text x="${m.left + 34}" y="${m.top - 12}">learning rate</text>`,
    '</svg>',
  );
  return parts.join('');
}
