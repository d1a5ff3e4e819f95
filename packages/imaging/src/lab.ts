/**
 * OpenCV's 8-bit linear RGB <-> CIE Lab conversions (`COLOR_LRGB2Lab` / `COLOR_Lab2LRGB`, no
 * sRGB gamma), as `fastNlMeansDenoisingColored` uses them. Forward: OpenCV's integer path
 * (`RGB2Lab_b`: 12-bit coefficients, a 15-bit cube-root table). Inverse: OpenCV's integer path
 * (`Lab2RGBinteger`, linear branch). Colours are in true order (R, G, B).
 */
import { roundHalfEven } from './rounding.js';

const labShift = 12;
const gammaShift = 3;
const labShift2 = labShift + gammaShift;
const cbrtTabSize = ((256 * 3) / 2) * (1 << gammaShift);

// OpenCV's D65 white point and sRGB (linear) <-> XYZ matrices.
const d65 = [0.950456, 1, 1.088754] as const;
const rgb2xyz = [0.412453, 0.35758, 0.180423, 0.212671, 0.71516, 0.072169, 0.019334, 0.119193, 0.950227] as const;
const xyz2rgb = [3.240479, -1.53715, -0.498535, -0.969256, 1.875991, 0.041556, 0.055648, -0.204043, 1.057311] as const;

const f32 = Math.fround;

/** Single-precision cube root rounded towards zero (as OpenCV's softfloat `cbrt` behaves). */
function cbrtF32(x: number): number {
  const v = Math.cbrt(x);
  let f = f32(v);
  if (f > v) {
    const buf = new Float32Array([f]);
    new Uint32Array(buf.buffer)[0]! -= 1;
    f = buf[0]!;
  }
  return f;
}

function buildForwardTables(): { coeffs: Int32Array; cbrt: Uint16Array } {
  const coeffs = new Int32Array(9);
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 3; k++) coeffs[i * 3 + k] = roundHalfEven(((1 << labShift) * rgb2xyz[i * 3 + k]!) / d65[i]!);
  }
  const cbrt = new Uint16Array(cbrtTabSize);
  const scale = f32(1 / (255 * (1 << gammaShift)));
  const lthresh = f32(f32(216) / f32(24389)); // (6/29)^3
  const lscale = f32(f32(841) / f32(108)); // (29/3)^3 / (29*4)
  const lbias = f32(f32(16) / f32(116));
  for (let i = 0; i < cbrtTabSize; i++) {
    const x = f32(scale * i);
    const v = x < lthresh ? f32(x * lscale + lbias) : cbrtF32(x);
    cbrt[i] = roundHalfEven(f32((1 << labShift2) * v));
  }
  return { coeffs, cbrt };
}

let forward: { coeffs: Int32Array; cbrt: Uint16Array } | undefined;

/**
 * Converts interleaved 8-bit linear RGB to 8-bit Lab (L scaled to 0–255, a and b offset by 128),
 * into `outL` (one plane) and `outAb` (two interleaved channels), the layout the denoiser uses.
 */
export function linearRgbToLab8(rgb: Uint8Array, outL: Uint8Array, outAb: Uint8Array): void {
  forward ??= buildForwardTables();
  const { coeffs: c, cbrt } = forward;
  const [c0, c1, c2, c3, c4, c5, c6, c7, c8] = c as unknown as number[];
  const lScale = Math.trunc((116 * 255 + 50) / 100);
  const lShift = -Math.trunc((16 * 255 * (1 << labShift2) + 50) / 100);
  const half = 1 << (labShift - 1);
  const half2 = 1 << (labShift2 - 1);
  const n = outL.length;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = rgb[j]! << gammaShift;
    const g = rgb[j + 1]! << gammaShift;
    const b = rgb[j + 2]! << gammaShift;
    const fX = cbrt[(r * c0! + g * c1! + b * c2! + half) >> labShift]!;
    const fY = cbrt[(r * c3! + g * c4! + b * c5! + half) >> labShift]!;
    const fZ = cbrt[(r * c6! + g * c7! + b * c8! + half) >> labShift]!;
    const l = (lScale * fY + lShift + half2) >> labShift2;
    const a = (500 * (fX - fY) + 128 * (1 << labShift2) + half2) >> labShift2;
    const bb = (200 * (fY - fZ) + 128 * (1 << labShift2) + half2) >> labShift2;
    outL[i] = l < 0 ? 0 : l > 255 ? 255 : l;
    outAb[2 * i] = a < 0 ? 0 : a > 255 ? 255 : a;
    outAb[2 * i + 1] = bb < 0 ? 0 : bb > 255 ? 255 : bb;
  }
}

const base = 1 << 14;
const minAbValue = -8145;
const invGammaShift = 12;
const invGammaTabSize = 1 << invGammaShift;

function buildInverseTables(): { coeffs: Int32Array; lToYf: Int32Array; abToXz: Int32Array } {
  const coeffs = new Int32Array(9);
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 3; k++) coeffs[i * 3 + k] = roundHalfEven((1 << labShift) * xyz2rgb[i * 3 + k]! * d65[k]!);
  }
  const lToYf = new Int32Array(512);
  for (let i = 0; i < 256; i++) {
    let y: number;
    let ify: number;
    if (i <= 20) {
      y = roundHalfEven(f32(f32(i * base * 20 * 9) / f32(17 * 29 * 29 * 29)));
      ify = roundHalfEven(f32(f32(base) * f32(f32(f32(16) / f32(116)) + f32(f32(i * 5) / f32(3 * 17 * 29)))));
    } else {
      const fy = f32(f32(f32(i * 100 * base) / f32(255 * 116)) + f32(f32(16 * base) / f32(116)));
      ify = roundHalfEven(fy);
      y = roundHalfEven(f32(f32(f32(fy * fy) * fy) / f32(base * base)));
    }
    lToYf[i * 2] = y;
    lToYf[i * 2 + 1] = ify;
  }
  const abToXz = new Int32Array((base * 9) / 4);
  const off = Math.trunc((Math.trunc((base * 16) / 116) * 108) / 841);
  for (let i = minAbValue; i < (base * 9) / 4 + minAbValue; i++) {
    abToXz[i - minAbValue] =
      i <= 3390 ? Math.trunc((i * 108) / 841) - off : Math.trunc((Math.trunc((i * i) / base) * i) / base);
  }
  return { coeffs, lToYf, abToXz };
}

let inverse: { coeffs: Int32Array; lToYf: Int32Array; abToXz: Int32Array } | undefined;

/**
 * Converts 8-bit Lab planes (as {@link linearRgbToLab8} writes them) back to linear RGB with
 * OpenCV's integer path (`Lab2RGBinteger`, linear branch: `(v·255) >> 12`, which truncates).
 */
export function lab8ToLinearRgb(l8: Uint8Array, ab8: Uint8Array, outRgb: Uint8Array): void {
  inverse ??= buildInverseTables();
  const { coeffs, lToYf, abToXz } = inverse;
  const [c0, c1, c2, c3, c4, c5, c6, c7, c8] = coeffs as unknown as number[];
  const shift = labShift + (14 - invGammaShift);
  const half = 1 << (shift - 1);
  const aSub = Math.trunc((128 * base) / 500);
  const bSub = Math.trunc((128 * base) / 200) - 1;
  const maxV = invGammaTabSize - 1;
  const n = l8.length;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const ll = l8[i]!;
    const aa = ab8[2 * i]!;
    const bb = ab8[2 * i + 1]!;
    const y = lToYf[ll * 2]!;
    const ify = lToYf[ll * 2 + 1]!;
    const adiv = ((5 * aa * 53687 + (1 << 7)) >> 13) - aSub;
    const bdiv = ((bb * 41943 + (1 << 4)) >> 9) - bSub;
    const x = abToXz[ify + adiv - minAbValue]!;
    const z = abToXz[ify - bdiv - minAbValue]!;
    let ro = (c0! * x + c1! * y + c2! * z + half) >> shift;
    let go = (c3! * x + c4! * y + c5! * z + half) >> shift;
    let bo = (c6! * x + c7! * y + c8! * z + half) >> shift;
    ro = ro < 0 ? 0 : ro > maxV ? maxV : ro;
    go = go < 0 ? 0 : go > maxV ? maxV : go;
    bo = bo < 0 ? 0 : bo > maxV ? maxV : bo;
    outRgb[j] = ((ro << 8) - ro) >> invGammaShift;
    outRgb[j + 1] = ((go << 8) - go) >> invGammaShift;
    outRgb[j + 2] = ((bo << 8) - bo) >> invGammaShift;
  }
}
