/**
 * Ben's filter on a WebAssembly SIMD kernel: the same fixed-point integers as `benRows`
 * (horizontal sums kept exactly in 16 bits, vertical sums in 32 bits rounded once, then
 * `sat(4·I − 4·G + 128)`), eight samples at a time. Row padding (reflect-101) is done in
 * JavaScript while the padded rows are copied into the kernel's memory.
 */
import { benSigma, gaussianKernelFixedPoint, gaussianTaps8u } from './ben.js';
import { reflect101 } from './border.js';
import { align64 as align, WatKernel } from './wat-kernel.js';

const wat = String.raw`
(module
  (import "env" "memory" (memory 1))
  ;; H[row][i] = kc·P[row][i + rc] + Σj k_j (P[row][i + rc − off_j] + P[row][i + rc + off_j]), u16
  (func (export "hpass") (param $p i32) (param $h i32) (param $rows i32) (param $rowLen i32)
        (param $padLen i32) (param $rc i32) (param $kc i32) (param $taps i32) (param $nz i32)
    (local $r i32) (local $i i32) (local $j i32) (local $c i32) (local $off i32) (local $acc v128) (local $hr i32)
    (local.set $r (i32.const 0))
    (block $rdone (loop $rows
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $hr (i32.add (local.get $h) (i32.shl (i32.mul (local.get $r) (local.get $rowLen)) (i32.const 1))))
      (local.set $i (i32.const 0))
      (block $idone (loop $cols
        (br_if $idone (i32.ge_s (local.get $i) (local.get $rowLen)))
        (local.set $c (i32.add (i32.add (local.get $p) (i32.mul (local.get $r) (local.get $padLen)))
                               (i32.add (local.get $i) (local.get $rc))))
        (local.set $acc (i16x8.mul (i16x8.extend_low_i8x16_u (v128.load64_zero (local.get $c)))
                                   (i16x8.splat (local.get $kc))))
        (local.set $j (i32.const 0))
        (block $jdone (loop $taps
          (br_if $jdone (i32.ge_s (local.get $j) (local.get $nz)))
          (local.set $off (i32.load (i32.add (local.get $taps) (i32.shl (local.get $j) (i32.const 3)))))
          (local.set $acc (i16x8.add (local.get $acc)
            (i16x8.mul
              (i16x8.add (i16x8.extend_low_i8x16_u (v128.load64_zero (i32.sub (local.get $c) (local.get $off))))
                         (i16x8.extend_low_i8x16_u (v128.load64_zero (i32.add (local.get $c) (local.get $off)))))
              (i16x8.splat (i32.load offset=4 (i32.add (local.get $taps) (i32.shl (local.get $j) (i32.const 3))))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $taps)))
        (v128.store (i32.add (local.get $hr) (i32.shl (local.get $i) (i32.const 1))) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $cols)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))

  ;; out[y][i] = sat(4·src[y][i] − 4·((Σ k·H + 2^15) >> 16) + 128)
  (func (export "vpass") (param $h i32) (param $src i32) (param $out i32) (param $rows i32) (param $rowLen i32)
        (param $r0 i32) (param $kc i32) (param $taps i32) (param $nz i32)
    (local $y i32) (local $i i32) (local $j i32) (local $c i32) (local $off i32) (local $k v128)
    (local $lo v128) (local $hi v128) (local $hu v128) (local $hd v128) (local $blur v128) (local $s v128)
    (local $stride i32)
    (local.set $stride (i32.shl (local.get $rowLen) (i32.const 1)))
    (local.set $y (i32.const 0))
    (block $ydone (loop $rows
      (br_if $ydone (i32.ge_s (local.get $y) (local.get $rows)))
      (local.set $i (i32.const 0))
      (block $idone (loop $cols
        (br_if $idone (i32.ge_s (local.get $i) (local.get $rowLen)))
        (local.set $c (i32.add (local.get $h)
          (i32.add (i32.mul (i32.add (local.get $y) (local.get $r0)) (local.get $stride)) (i32.shl (local.get $i) (i32.const 1)))))
        (local.set $k (i16x8.splat (local.get $kc)))
        (local.set $hu (v128.load (local.get $c)))
        (local.set $lo (i32x4.extmul_low_i16x8_u (local.get $hu) (local.get $k)))
        (local.set $hi (i32x4.extmul_high_i16x8_u (local.get $hu) (local.get $k)))
        (local.set $j (i32.const 0))
        (block $jdone (loop $taps
          (br_if $jdone (i32.ge_s (local.get $j) (local.get $nz)))
          (local.set $off (i32.mul (i32.load (i32.add (local.get $taps) (i32.shl (local.get $j) (i32.const 3)))) (local.get $stride)))
          (local.set $k (i16x8.splat (i32.load offset=4 (i32.add (local.get $taps) (i32.shl (local.get $j) (i32.const 3))))))
          (local.set $hu (v128.load (i32.sub (local.get $c) (local.get $off))))
          (local.set $hd (v128.load (i32.add (local.get $c) (local.get $off))))
          (local.set $lo (i32x4.add (local.get $lo) (i32x4.add (i32x4.extmul_low_i16x8_u (local.get $hu) (local.get $k))
                                                               (i32x4.extmul_low_i16x8_u (local.get $hd) (local.get $k)))))
          (local.set $hi (i32x4.add (local.get $hi) (i32x4.add (i32x4.extmul_high_i16x8_u (local.get $hu) (local.get $k))
                                                               (i32x4.extmul_high_i16x8_u (local.get $hd) (local.get $k)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $taps)))
        (local.set $blur (i16x8.narrow_i32x4_u
          (i32x4.shr_u (i32x4.add (local.get $lo) (i32x4.splat (i32.const 32768))) (i32.const 16))
          (i32x4.shr_u (i32x4.add (local.get $hi) (i32x4.splat (i32.const 32768))) (i32.const 16))))
        (local.set $s (i16x8.extend_low_i8x16_u
          (v128.load64_zero (i32.add (local.get $src) (i32.add (i32.mul (local.get $y) (local.get $rowLen)) (local.get $i))))))
        (local.set $s (i16x8.add (i16x8.sub (i16x8.shl (local.get $s) (i32.const 2)) (i16x8.shl (local.get $blur) (i32.const 2)))
                                 (i16x8.splat (i32.const 128))))
        (v128.store64_lane 0
          (i32.add (local.get $out) (i32.add (i32.mul (local.get $y) (local.get $rowLen)) (local.get $i)))
          (i8x16.narrow_i16x8_u (local.get $s) (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $cols)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows))))
)`;

interface Kernel {
  hpass(
    p: number,
    h: number,
    rows: number,
    rowLen: number,
    padLen: number,
    rc: number,
    kc: number,
    taps: number,
    nz: number,
  ): void;
  vpass(
    h: number,
    src: number,
    out: number,
    rows: number,
    rowLen: number,
    r0: number,
    kc: number,
    taps: number,
    nz: number,
  ): void;
}

const benKernel = new WatKernel<Kernel>('ben.wat', wat);

/** Compiles the kernel once per thread. */
export async function ensureBenWasm(): Promise<void> {
  await benKernel.ensure();
}

/** Same contract and result as `benRows`, on the WebAssembly kernel. */
export function benRowsWasm(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  rowStart: number,
  rowEnd: number,
  out: Uint8Array,
): void {
  if (!benKernel.ready) throw new Error('ensureBenWasm() was not awaited');
  const kernel = gaussianKernelFixedPoint(gaussianTaps8u(benSigma), benSigma);
  const r = (kernel.length - 1) >> 1;
  const taps: number[] = [];
  for (let t = 1; t <= r; t++) if (kernel[r - t] !== 0) taps.push(t);
  const rowLen = width * channels;
  const padLen = (width + 2 * r) * channels;
  const rowsIn = rowEnd - rowStart + 2 * r;
  const outRows = rowEnd - rowStart;
  let off = 64;
  const tapsAt = off;
  off += align(taps.length * 8 + 16);
  const pAt = off;
  off += align(rowsIn * padLen + 64);
  const hAt = off;
  off += align(rowsIn * rowLen * 2 + 64);
  const sAt = off;
  off += align(outRows * rowLen + 64);
  const oAt = off;
  off += align(outRows * rowLen + 64);
  const { kernel: k, bytes, ints } = benKernel.instantiate(off);
  taps.forEach((t, j) => {
    ints[(tapsAt >> 2) + 2 * j] = t * channels;
    ints[(tapsAt >> 2) + 2 * j + 1] = kernel[r - t]!;
  });
  const colMap = new Int32Array(2 * r);
  for (let x = 0; x < r; x++) {
    colMap[x] = reflect101(x - r, width);
    colMap[r + x] = reflect101(width + x, width);
  }
  for (let i = 0; i < rowsIn; i++) {
    const sy = reflect101(rowStart - r + i, height);
    const from = sy * rowLen;
    const to = pAt + i * padLen;
    bytes.set(src.subarray(from, from + rowLen), to + r * channels);
    for (let x = 0; x < r; x++) {
      for (let c = 0; c < channels; c++) {
        bytes[to + x * channels + c] = src[from + colMap[x]! * channels + c]!;
        bytes[to + (r + width + x) * channels + c] = src[from + colMap[r + x]! * channels + c]!;
      }
    }
  }
  bytes.set(src.subarray(rowStart * rowLen, rowEnd * rowLen), sAt);
  k.hpass(pAt, hAt, rowsIn, rowLen, padLen, r * channels, kernel[r]!, tapsAt, taps.length);
  taps.forEach((t, j) => {
    ints[(tapsAt >> 2) + 2 * j] = t;
  });
  k.vpass(hAt, sAt, oAt, outRows, rowLen, r, kernel[r]!, tapsAt, taps.length);
  out.set(bytes.subarray(oAt, oAt + outRows * rowLen), rowStart * rowLen);
}
