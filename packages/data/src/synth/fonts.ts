/**
 * Fonts of the synthetic books and the glyph-coverage check.
 *
 * Faces come from Debian packages (see `scripts/ensure-env.sh`). Training books use
 * {@link TRAIN_FONTS}; held-out books use {@link HOLDOUT_FONTS}, brush faces that no training
 * family shares, so a model is measured on a hand it never saw.
 *
 * Coverage: librsvg/pango never draw a tofu box for a missing glyph; they silently take it from
 * a fallback font or draw nothing. Both would leak another hand into a book (the fallback is
 * whatever fontconfig sorts next, which may even be a held-out brush face) or produce empty
 * labels, and fontconfig's charset is no proof (SetoFont claims the whole BMP). So coverage is
 * measured on the renderer itself: the candidates are drawn with the family list
 * `"<family>, <sentinel>"`, which pins the fallback to the sentinel (Noto Sans CJK JP, or Noto
 * Serif CJK JP for Noto Sans itself; both cover all of JIS X 0208), and once in the sentinel
 * alone. The family covers a character when its drawing has ink and differs from the sentinel's.
 */
import sharp from 'sharp';

/** A font family (as fontconfig names it) with the weights a book may use and its Debian package. */
export interface FontFamily {
  /** fontconfig family name, used as SVG `font-family`. */
  readonly family: string;
  /** CSS weights this family has real faces for. */
  readonly weights: readonly number[];
  /** The Debian package that installs it. */
  readonly debianPackage: string;
}

/** Families of training books: printed mincho and gothic, pen and handwriting faces. */
export const TRAIN_FONTS: readonly FontFamily[] = [
  { family: 'Noto Serif CJK JP', weights: [400, 700], debianPackage: 'fonts-noto-cjk' },
  { family: 'Noto Sans CJK JP', weights: [400, 700], debianPackage: 'fonts-noto-cjk' },
  { family: 'IPAMincho', weights: [400], debianPackage: 'fonts-ipafont-mincho' },
  { family: 'Klee One', weights: [400, 600], debianPackage: 'fonts-klee' },
  { family: 'SetoFont', weights: [400], debianPackage: 'fonts-seto' },
  { family: 'Oradano-mincho-GSRR', weights: [400], debianPackage: 'fonts-oradano-mincho-gsrr' },
];

/** Families of held-out books: brush hands (kaisho, gyousho, sousho) no training family uses. */
export const HOLDOUT_FONTS: readonly FontFamily[] = [
  { family: 'KouzanBrushFont', weights: [400], debianPackage: 'fonts-kouzan-mouhitsu' },
  { family: 'KouzanBrushFontGyousyo', weights: [400], debianPackage: 'fonts-kouzan-mouhitsu' },
  { family: 'KouzanBrushFontSousyo', weights: [400], debianPackage: 'fonts-kouzan-mouhitsu' },
  { family: 'AoyagiSosekiFont2', weights: [400], debianPackage: 'fonts-aoyagi-soseki' },
];

/** The fallback pinned behind a family while its coverage is measured. */
function sentinelFor(family: string): string {
  return family === 'Noto Sans CJK JP' ? 'Noto Serif CJK JP' : 'Noto Sans CJK JP';
}

/**
 * Characters the generator draws classes from: the 48 hiragana of classical texts (with ゐ and
 * ゑ) and frequent kanji of pre-modern books. Order is irrelevant; classes are drawn with the seed.
 */
export const CHARACTER_POOL: readonly string[] = [
  ...new Set([
    ...'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわゐゑをん',
    ...'之也人日月年事見御候不大出物上下中入申此其有無可心於云為被致一二三十百千万天地山川水火木金土国家',
    ...'子女男父母名今時間前後方道花春夏秋冬風雨雪夜朝東西南北内外生死思言行来知書読問答神仏寺殿主君臣王',
    ...'公高長小少多白黒赤青色石竹草鳥魚馬牛犬手足目口耳身体気力文字歌詩語所給奉様儀右左度等者是又亦皆共',
    ...'程計迄哉乎矣焉兮',
  ]),
];

const CELL = 40;
const FONT_SIZE = 34;
const COLS = 32;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Renders `chars` in a grid with one family; returns the grey sheet (one byte per pixel). */
async function renderSheet(family: string, chars: readonly string[]): Promise<Uint8Array> {
  const rows = Math.ceil(chars.length / COLS);
  const cells = chars
    .map((c, i) => `<text x="${(i % COLS) * CELL + 3}" y="${Math.floor(i / COLS) * CELL + 32}">${escapeXml(c)}</text>`)
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${COLS * CELL}" height="${rows * CELL}">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<g font-family="${escapeXml(family)}" font-size="${FONT_SIZE}" fill="#000">${cells}</g></svg>`;
  const { data } = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).greyscale().raw().toBuffer({
    resolveWithObject: true,
  });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function cellOf(sheet: Uint8Array, index: number): Uint8Array {
  const width = COLS * CELL;
  const out = new Uint8Array(CELL * CELL);
  const x0 = (index % COLS) * CELL;
  const y0 = Math.floor(index / COLS) * CELL;
  for (let y = 0; y < CELL; y++) out.set(sheet.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + CELL), y * CELL);
  return out;
}

function inkOf(cell: Uint8Array): number {
  let ink = 0;
  for (const v of cell) if (v < 128) ink++;
  return ink;
}

function sameDrawing(a: Uint8Array, b: Uint8Array, ink: number): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 32) diff++;
  return diff <= Math.max(2, ink * 0.02);
}

const sheetCache = new Map<string, Promise<Uint8Array>>();

function sheetFor(family: string, chars: readonly string[]): Promise<Uint8Array> {
  const key = `${family}\u0000${chars.join('')}`;
  let sheet = sheetCache.get(key);
  if (!sheet) {
    sheet = renderSheet(family, chars);
    sheetCache.set(key, sheet);
    sheet.catch(() => sheetCache.delete(key));
  }
  return sheet;
}

/**
 * The characters of `chars` that `family` really draws (its own glyph with ink, not a fallback
 * font's). Results are cached per process.
 */
export async function coveredCharacters(family: string, chars: readonly string[]): Promise<Set<string>> {
  const sentinel = sentinelFor(family);
  const [own, reference] = await Promise.all([sheetFor(`${family}, ${sentinel}`, chars), sheetFor(sentinel, chars)]);
  const covered = new Set<string>();
  chars.forEach((char, i) => {
    const cell = cellOf(own, i);
    const ink = inkOf(cell);
    if (ink < 8) return; // blank: an empty .notdef or a space-like glyph
    if (sameDrawing(cell, cellOf(reference, i), ink)) return; // the pinned fallback drew it
    covered.add(char);
  });
  return covered;
}
