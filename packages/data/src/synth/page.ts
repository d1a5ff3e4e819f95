/**
 * One synthetic page: layout of characters in vertical columns read right to left, rendering
 * through SVG (librsvg + pango via sharp), tight ground-truth boxes measured on the rendered
 * ink, and the book's look (paper tint, ink colour, noise, blur) before JPEG encoding.
 *
 * Boxes are measured, not assumed: glyphs are rendered in two layers by the parity of
 * (column + row), so a character's horizontal and vertical neighbours are never in the layer
 * its box is measured in. The page is the darker of the two layers.
 */
import type { CharLabel, Rng } from '@kzr/core';
import sharp from 'sharp';

/** The look of one book: one hand, one paper, one printing. */
export interface BookStyle {
  /** fontconfig family (SVG `font-family`). */
  readonly family: string;
  /** CSS font weight. */
  readonly weight: number;
  /** Horizontal shear of every glyph, degrees (positive leans right). */
  readonly slantDeg: number;
  /** Ink bleed: an outline of this width (pixels) drawn around each glyph. */
  readonly inkBleedPx: number;
  /** Gaussian blur of the whole page, sigma in pixels (0 = none). */
  readonly blurSigma: number;
  /** Paper colour, RGB 0-255. */
  readonly paperRgb: readonly [number, number, number];
  /** Ink colour, RGB 0-255. */
  readonly inkRgb: readonly [number, number, number];
  /** Standard deviation of per-pixel noise, grey levels. */
  readonly noiseSd: number;
  /** Darkening towards the page corners (0 = flat paper), as a fraction of the paper colour. */
  readonly vignette: number;
  /** Distance between column centres, in glyph sizes. */
  readonly columnPitch: number;
  /** Height of a character's cell, in its own glyph size. */
  readonly rowPitch: number;
}

/** Draws a book style for a family and weight. */
export function drawBookStyle(family: string, weight: number, glyphSize: number, rng: Rng): BookStyle {
  const paper: [number, number, number] = [rng.intBetween(228, 250), 0, 0];
  paper[1] = paper[0] - rng.intBetween(4, 16);
  paper[2] = paper[1] - rng.intBetween(10, 40);
  const inkLevel = rng.intBetween(15, 60);
  return {
    family,
    weight,
    slantDeg: round(rng.uniform(-6, 6), 2),
    inkBleedPx: round(rng.next() < 0.3 ? 0 : rng.uniform(0.02, 0.07) * glyphSize, 2),
    blurSigma: round(rng.next() < 0.2 ? 0 : rng.uniform(0.35, 1.1), 2),
    paperRgb: paper,
    inkRgb: [inkLevel + rng.intBetween(0, 20), inkLevel + rng.intBetween(0, 10), inkLevel],
    noiseSd: round(rng.uniform(3, 12), 2),
    vignette: round(rng.uniform(0, 0.12), 3),
    columnPitch: round(rng.uniform(1.5, 1.8), 3),
    rowPitch: round(rng.uniform(1.08, 1.25), 3),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What a page needs beyond its style. */
export interface PageSpec {
  readonly width: number;
  readonly height: number;
  /** Nominal glyph size (em), pixels. */
  readonly glyphSize: number;
  readonly style: BookStyle;
  /** Class codes and characters, in Zipf rank order, with cumulative probabilities. */
  readonly codes: readonly string[];
  readonly chars: readonly string[];
  readonly cumulative: readonly number[];
  /** True for a page without characters (a blank or illustration-only page). */
  readonly empty: boolean;
  /** JPEG quality 1-100. */
  readonly jpegQuality: number;
}

interface Placed {
  readonly code: string;
  readonly char: string;
  readonly size: number;
  /** Glyph centre. */
  readonly cx: number;
  readonly cy: number;
  readonly layer: 0 | 1;
}

function pickClass(cumulative: readonly number[], u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Places characters: columns right to left, top to bottom, slanted and uneven. */
function layout(spec: PageSpec, rng: Rng): Placed[] {
  if (spec.empty) return [];
  const { width: W, height: H, glyphSize: g, style } = spec;
  const mx = Math.round(0.07 * W);
  const my = Math.round(0.06 * H);
  const cp = style.columnPitch * g;
  const usableH = H - 2 * my;
  const columns = Math.max(1, Math.floor((W - 2 * mx) / cp));
  // Leftover width is split so the block of columns sits at a random place between the margins.
  const spare = W - 2 * mx - columns * cp;
  const right = W - mx - rng.uniform(0, spare);
  const placed: Placed[] = [];
  for (let col = 0; col < columns; col++) {
    if (rng.next() < 0.05) continue; // a blank column
    const cx0 = right - cp * (col + 0.5) + rng.normal() * 0.03 * g;
    const bottom = my + usableH * (rng.next() < 0.7 ? 1 : rng.uniform(0.15, 1));
    // Total drift of a column stays below a fifth of the gap between columns.
    const slope = (rng.uniform(-1, 1) * 0.2 * (cp - g)) / usableH;
    let y = my + rng.uniform(0, 0.4) * g;
    for (let row = 0; ; row++) {
      const size = g * rng.uniform(0.85, 1.08);
      const cellH = size * style.rowPitch;
      if (y + cellH > bottom) break;
      const k = pickClass(spec.cumulative, rng.next());
      const cx = cx0 + slope * (y - my) + rng.normal() * 0.025 * g;
      placed.push({
        code: spec.codes[k]!,
        char: spec.chars[k]!,
        size,
        cx,
        cy: y + cellH / 2,
        layer: ((col + row) % 2) as 0 | 1,
      });
      y += cellH;
    }
  }
  return placed;
}

function layerSvg(spec: PageSpec, glyphs: readonly Placed[]): string {
  const { style } = spec;
  const stroke =
    style.inkBleedPx > 0 ? ` stroke="#000" stroke-width="${style.inkBleedPx}" stroke-linejoin="round"` : '';
  const texts = glyphs
    .map((p) => {
      const cx = p.cx.toFixed(2);
      const cy = p.cy.toFixed(2);
      // The em box is centred on (cx, cy); CJK faces put the baseline about 0.88 em below the top.
      const baseline = (p.cy + 0.38 * p.size).toFixed(2);
      return (
        `<text x="${cx}" y="${baseline}" font-size="${p.size.toFixed(2)}" ` +
        `transform="translate(${cx} ${cy}) skewX(${-style.slantDeg}) translate(${-p.cx} ${-p.cy})">` +
        `${escapeXml(p.char)}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${spec.width}" height="${spec.height}">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<g font-family="${escapeXml(style.family)}" font-weight="${style.weight}" fill="#000" text-anchor="middle"${stroke}>` +
    `${texts}</g></svg>`
  );
}

async function renderGrey(svg: string): Promise<Uint8Array> {
  const { data, info } = await sharp(Buffer.from(svg))
    .flatten({ background: '#ffffff' })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected 1 channel from the SVG render, got ${info.channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

const INK = 128;

/** The tight box of ink (grey < 128) around a glyph, searched in a window around its cell. */
function measure(grey: Uint8Array, W: number, H: number, p: Placed): CharLabel | undefined {
  // Sideways a glyph (slanted, with bleed) stays within 0.65 em of its centre and the next column
  // is at least 1.5 glyph sizes away; vertically brush strokes may overshoot the em box, and the
  // characters above and below are in the other layer.
  const reachX = p.size * 0.72;
  const reachY = p.size * 0.85;
  const x0 = Math.max(0, Math.floor(p.cx - reachX));
  const x1 = Math.min(W - 1, Math.ceil(p.cx + reachX));
  const y0 = Math.max(0, Math.floor(p.cy - reachY));
  const y1 = Math.min(H - 1, Math.ceil(p.cy + reachY));
  let left = Infinity;
  let right = -1;
  let top = Infinity;
  let bottom = -1;
  for (let y = y0; y <= y1; y++) {
    const row = y * W;
    for (let x = x0; x <= x1; x++) {
      if (grey[row + x]! < INK) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  if (right < 0) return undefined;
  return { code: p.code, x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

/** The rendered page and its ground truth in reading order. */
export interface RenderedPage {
  readonly jpeg: Buffer;
  readonly labels: CharLabel[];
}

/** Lays out, renders and encodes one page. All randomness comes from `rng`. */
export async function renderPage(spec: PageSpec, rng: Rng): Promise<RenderedPage> {
  const { width: W, height: H, style } = spec;
  const placed = layout(spec, rng);
  const [even, odd] = await Promise.all([
    renderGrey(
      layerSvg(
        spec,
        placed.filter((p) => p.layer === 0),
      ),
    ),
    renderGrey(
      layerSvg(
        spec,
        placed.filter((p) => p.layer === 1),
      ),
    ),
  ]);
  const labels: CharLabel[] = [];
  for (const p of placed) {
    const label = measure(p.layer === 0 ? even : odd, W, H, p);
    if (label) labels.push(label);
  }

  // Compose: paper and ink colours by ink coverage, a soft vignette and per-pixel noise.
  const rgb = Buffer.alloc(W * H * 3);
  const [pr, pg, pb] = style.paperRgb;
  const [ir, ig, ib] = style.inkRgb;
  for (let y = 0; y < H; y++) {
    const dy = y / H - 0.5;
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const grey = Math.min(even[i]!, odd[i]!);
      const a = (255 - grey) / 255;
      const dx = x / W - 0.5;
      const shade = 1 - style.vignette * 2 * (dx * dx + dy * dy);
      const noise = rng.normal() * style.noiseSd;
      const o = i * 3;
      rgb[o] = clampByte(pr * shade * (1 - a) + ir * a + noise);
      rgb[o + 1] = clampByte(pg * shade * (1 - a) + ig * a + noise);
      rgb[o + 2] = clampByte(pb * shade * (1 - a) + ib * a + noise);
    }
  }
  let image = sharp(rgb, { raw: { width: W, height: H, channels: 3 } });
  if (style.blurSigma >= 0.3) image = image.blur(style.blurSigma);
  const jpeg = await image.jpeg({ quality: spec.jpegQuality, chromaSubsampling: '4:2:0', mozjpeg: false }).toBuffer();
  return { jpeg, labels };
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
