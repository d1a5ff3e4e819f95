/**
 * The NL-means tile kernel in WebAssembly SIMD (128-bit, four int32 lanes), compiled at load
 * time from the text below with wabt. Same integers as `nlMeansRows` (the JavaScript kernel,
 * kept for synchronous callers and as the reference in tests), in the same order of
 * operations per output, so the results are identical; only faster.
 *
 * Per tile and search offset d (half of them; see nlmeans.ts): `dpass` writes the squared
 * differences D of the region, `vpass` their vertical 7-sums, `hpass` the horizontal 7-sums
 * turned into weights through the table, `accum` adds both directions into den/num.
 * Rows may over-run by up to three lanes: every buffer has slack and the accumulators use a
 * row stride rounded up to four, so over-run lanes never reach a result.
 */
import { type NlMeansPlan } from './nlmeans.js';
import { align64 as align, WatKernel } from './wat-kernel.js';

const wat = String.raw`
(module
  (import "env" "memory" (memory 1))
  ;; D[r][x] = Σc (E_c[start + r*ew + x] − E_c[… + dOff])², rows × dw int32 at dst
  (func (export "dpass") (param $e0 i32) (param $e1 i32) (param $two i32) (param $dst i32)
        (param $rows i32) (param $dw i32) (param $ew i32) (param $dOff i32) (param $start i32)
    (local $r i32) (local $x i32) (local $ei i32) (local $di i32) (local $a v128) (local $d v128)
    (local.set $r (i32.const 0))
    (block $rdone (loop $rows
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $ei (i32.add (local.get $start) (i32.mul (local.get $r) (local.get $ew))))
      (local.set $di (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $r) (local.get $dw)) (i32.const 2))))
      (local.set $x (i32.const 0))
      (block $xdone (loop $cols
        (br_if $xdone (i32.ge_s (local.get $x) (local.get $dw)))
        (local.set $a (i32x4.sub
          (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
            (v128.load32_zero (i32.add (local.get $e0) (i32.add (local.get $ei) (local.get $x))))))
          (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
            (v128.load32_zero (i32.add (local.get $e0) (i32.add (i32.add (local.get $ei) (local.get $x)) (local.get $dOff))))))))
        (local.set $d (i32x4.mul (local.get $a) (local.get $a)))
        (if (local.get $two) (then
          (local.set $a (i32x4.sub
            (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
              (v128.load32_zero (i32.add (local.get $e1) (i32.add (local.get $ei) (local.get $x))))))
            (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
              (v128.load32_zero (i32.add (local.get $e1) (i32.add (i32.add (local.get $ei) (local.get $x)) (local.get $dOff))))))))
          (local.set $d (i32x4.add (local.get $d) (i32x4.mul (local.get $a) (local.get $a))))))
        (v128.store (i32.add (local.get $di) (i32.shl (local.get $x) (i32.const 2))) (local.get $d))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $cols)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))

  ;; V[r][x] = Σ_{i<tw2} D[r+i][x], qh rows × dw
  (func (export "vpass") (param $d i32) (param $v i32) (param $qh i32) (param $dw i32) (param $tw2 i32)
    (local $r i32) (local $i i32) (local $x i32) (local $acc v128) (local $stride i32) (local $o i32)
    (local.set $stride (i32.shl (local.get $dw) (i32.const 2)))
    (local.set $x (i32.const 0))
    (block $xdone (loop $cols
      (br_if $xdone (i32.ge_s (local.get $x) (local.get $dw)))
      (local.set $o (i32.shl (local.get $x) (i32.const 2)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.const 0))
      (block $idone (loop $taps
        (br_if $idone (i32.ge_s (local.get $i) (local.get $tw2)))
        (local.set $acc (i32x4.add (local.get $acc)
          (v128.load (i32.add (local.get $d) (i32.add (local.get $o) (i32.mul (local.get $i) (local.get $stride)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $taps)))
      (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $acc))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br $cols)))
    (local.set $r (i32.const 1))
    (block $rdone (loop $rows
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $qh)))
      (local.set $x (i32.const 0))
      (block $xdone2 (loop $cols2
        (br_if $xdone2 (i32.ge_s (local.get $x) (local.get $dw)))
        (local.set $o (i32.add (i32.mul (local.get $r) (local.get $stride)) (i32.shl (local.get $x) (i32.const 2))))
        (v128.store (i32.add (local.get $v) (local.get $o))
          (i32x4.sub
            (i32x4.add
              (v128.load (i32.sub (i32.add (local.get $v) (local.get $o)) (local.get $stride)))
              (v128.load (i32.add (local.get $d)
                (i32.add (local.get $o) (i32.mul (i32.sub (local.get $tw2) (i32.const 1)) (local.get $stride))))))
            (v128.load (i32.sub (i32.add (local.get $d) (local.get $o)) (local.get $stride)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $cols2)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))

  ;; W[r][x] = table[(Σ_{i<tw2} V[r][x+i]) >> shift], qh rows × qw (V rows have dw = qw + tw2 − 1)
  (func (export "hpass") (param $v i32) (param $w i32) (param $qh i32) (param $qw i32) (param $dw i32)
        (param $tw2 i32) (param $table i32) (param $shift i32)
    (local $r i32) (local $x i32) (local $s i32) (local $vi i32) (local $wi i32) (local $i i32)
    (local.set $r (i32.const 0))
    (block $rdone (loop $rows
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $qh)))
      (local.set $vi (i32.add (local.get $v) (i32.shl (i32.mul (local.get $r) (local.get $dw)) (i32.const 2))))
      (local.set $wi (i32.add (local.get $w) (i32.shl (i32.mul (local.get $r) (local.get $qw)) (i32.const 2))))
      (local.set $s (i32.const 0))
      (local.set $i (i32.const 0))
      (block $idone (loop $taps
        (br_if $idone (i32.ge_s (local.get $i) (local.get $tw2)))
        (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $vi) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $taps)))
      (i32.store (local.get $wi)
        (i32.load (i32.add (local.get $table) (i32.shl (i32.shr_s (local.get $s) (local.get $shift)) (i32.const 2)))))
      (local.set $x (i32.const 1))
      (block $xdone (loop $cols
        (br_if $xdone (i32.ge_s (local.get $x) (local.get $qw)))
        (local.set $s (i32.sub
          (i32.add (local.get $s)
            (i32.load (i32.add (local.get $vi) (i32.shl (i32.add (local.get $x) (i32.sub (local.get $tw2) (i32.const 1))) (i32.const 2)))))
          (i32.load (i32.add (local.get $vi) (i32.shl (i32.sub (local.get $x) (i32.const 1)) (i32.const 2))))))
        (i32.store (i32.add (local.get $wi) (i32.shl (local.get $x) (i32.const 2)))
          (i32.load (i32.add (local.get $table) (i32.shl (i32.shr_s (local.get $s) (local.get $shift)) (i32.const 2)))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $cols)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))

  ;; den[k] += w1 + w2; num_c[k] += w1·E_c(p + d) + w2·E_c(p − d) for a tile (th × tw, row stride ks)
  (func (export "accum") (param $w i32) (param $e0 i32) (param $e1 i32) (param $two i32)
        (param $den i32) (param $n0 i32) (param $n1 i32)
        (param $th i32) (param $tw i32) (param $ks i32) (param $qw i32) (param $dy i32) (param $dx i32)
        (param $pxOff i32) (param $eStart i32) (param $ew i32) (param $dOff i32)
    (local $y i32) (local $x i32) (local $wP i32) (local $wM i32) (local $e i32) (local $k i32)
    (local $w1 v128) (local $w2 v128) (local $ep v128) (local $em v128)
    (local.set $y (i32.const 0))
    (block $ydone (loop $rows
      (br_if $ydone (i32.ge_s (local.get $y) (local.get $th)))
      (local.set $wP (i32.add (local.get $w) (i32.shl
        (i32.add (i32.mul (i32.add (local.get $y) (local.get $dy)) (local.get $qw)) (local.get $pxOff)) (i32.const 2))))
      (local.set $wM (i32.add (local.get $w) (i32.shl
        (i32.sub (i32.add (i32.mul (local.get $y) (local.get $qw)) (local.get $pxOff)) (local.get $dx)) (i32.const 2))))
      (local.set $e (i32.add (local.get $eStart) (i32.mul (local.get $y) (local.get $ew))))
      (local.set $k (i32.shl (i32.mul (local.get $y) (local.get $ks)) (i32.const 2)))
      (local.set $x (i32.const 0))
      (block $xdone (loop $cols
        (br_if $xdone (i32.ge_s (local.get $x) (local.get $tw)))
        (local.set $w1 (v128.load (i32.add (local.get $wP) (i32.shl (local.get $x) (i32.const 2)))))
        (local.set $w2 (v128.load (i32.add (local.get $wM) (i32.shl (local.get $x) (i32.const 2)))))
        (v128.store (i32.add (local.get $den) (local.get $k))
          (i32x4.add (v128.load (i32.add (local.get $den) (local.get $k))) (i32x4.add (local.get $w1) (local.get $w2))))
        (local.set $ep (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
          (v128.load32_zero (i32.add (local.get $e0) (i32.add (i32.add (local.get $e) (local.get $x)) (local.get $dOff)))))))
        (local.set $em (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
          (v128.load32_zero (i32.add (local.get $e0) (i32.sub (i32.add (local.get $e) (local.get $x)) (local.get $dOff)))))))
        (v128.store (i32.add (local.get $n0) (local.get $k))
          (i32x4.add (v128.load (i32.add (local.get $n0) (local.get $k)))
            (i32x4.add (i32x4.mul (local.get $w1) (local.get $ep)) (i32x4.mul (local.get $w2) (local.get $em)))))
        (if (local.get $two) (then
          (local.set $ep (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
            (v128.load32_zero (i32.add (local.get $e1) (i32.add (i32.add (local.get $e) (local.get $x)) (local.get $dOff)))))))
          (local.set $em (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
            (v128.load32_zero (i32.add (local.get $e1) (i32.sub (i32.add (local.get $e) (local.get $x)) (local.get $dOff)))))))
          (v128.store (i32.add (local.get $n1) (local.get $k))
            (i32x4.add (v128.load (i32.add (local.get $n1) (local.get $k)))
              (i32x4.add (i32x4.mul (local.get $w1) (local.get $ep)) (i32x4.mul (local.get $w2) (local.get $em)))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $cols)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows))))
)`;

interface Kernel {
  dpass(
    e0: number,
    e1: number,
    two: number,
    dst: number,
    rows: number,
    dw: number,
    ew: number,
    dOff: number,
    start: number,
  ): void;
  vpass(d: number, v: number, qh: number, dw: number, tw2: number): void;
  hpass(v: number, w: number, qh: number, qw: number, dw: number, tw2: number, table: number, shift: number): void;
  accum(
    w: number,
    e0: number,
    e1: number,
    two: number,
    den: number,
    n0: number,
    n1: number,
    th: number,
    tw: number,
    ks: number,
    qw: number,
    dy: number,
    dx: number,
    pxOff: number,
    eStart: number,
    ew: number,
    dOff: number,
  ): void;
}

const nlMeansKernel = new WatKernel<Kernel>('nlmeans.wat', wat);

/** Compiles the kernel once per thread and keeps it for {@link nlMeansRowsWasm}. */
export async function ensureNlMeansWasm(): Promise<void> {
  await nlMeansKernel.ensure();
}

/** True when {@link ensureNlMeansWasm} has completed in this thread. */
export function nlMeansWasmReady(): boolean {
  return nlMeansKernel.ready;
}

const tileRows = 96;
const tileCols = 256;

/**
 * Same contract and result as `nlMeansRows`, on the WebAssembly kernel; call
 * {@link ensureNlMeansWasm} first.
 */
export function nlMeansRowsWasm(
  plan: NlMeansPlan,
  planes: readonly Uint8Array[],
  width: number,
  outPlanes: readonly Uint8Array[],
  rowStart: number,
  rowEnd: number,
): void {
  if (!nlMeansKernel.ready) throw new Error('ensureNlMeansWasm() was not awaited');
  const { channels, templateHalf: t, searchHalf: sh, border, shift, weights, centreWeight } = plan;
  const two = channels === 2 ? 1 : 0;
  const ew = width + 2 * border;
  const tw2 = 2 * t + 1;
  // The strip's rows of the extended planes: [rowStart, rowEnd + 2·border).
  const extRows = rowEnd - rowStart + 2 * border;
  const planeBytes = align(extRows * ew + 64);
  const maxQw = tileCols + 2 * sh;
  const maxDw = maxQw + 2 * t + 4;
  const maxQh = tileRows + sh;
  const ks = tileCols; // multiple of 4
  let off = 64;
  const e0 = off;
  off += planeBytes;
  const e1 = off;
  off += two ? planeBytes : 0;
  const dBuf = off;
  off += align((maxQh + 2 * t + 1) * maxDw * 4 + 64);
  const vBuf = off;
  off += align((maxQh + 1) * maxDw * 4 + 64);
  const wBuf = off;
  off += align((maxQh + 1) * maxQw * 4 + 64);
  const table = off;
  off += align(weights.length * 4 + 64);
  const den = off;
  off += align((tileRows + 1) * ks * 4);
  const n0 = off;
  off += align((tileRows + 1) * ks * 4);
  const n1 = off;
  off += align((tileRows + 1) * ks * 4);
  const { kernel: k, bytes, ints } = nlMeansKernel.instantiate(off);
  bytes.set(planes[0]!.subarray(rowStart * ew, (rowStart + extRows) * ew), e0);
  if (two) bytes.set(planes[1]!.subarray(rowStart * ew, (rowStart + extRows) * ew), e1);
  ints.set(weights, table >> 2);
  const eBase = rowStart * ew; // extended-plane index of the strip copy's first byte

  for (let ty0 = rowStart; ty0 < rowEnd; ty0 += tileRows) {
    const ty1 = Math.min(ty0 + tileRows, rowEnd);
    const th = ty1 - ty0;
    for (let tx0 = 0; tx0 < width; tx0 += tileCols) {
      const tx1 = Math.min(tx0 + tileCols, width);
      const tw = tx1 - tx0;
      for (let y = 0; y < th; y++) {
        const eRow = (ty0 + y + border) * ew + tx0 + border - eBase;
        const kRow = (y * ks) | 0;
        for (let x = 0; x < tw; x++) {
          ints[(den >> 2) + kRow + x] = centreWeight;
          ints[(n0 >> 2) + kRow + x] = centreWeight * bytes[e0 + eRow + x]!;
          if (two) ints[(n1 >> 2) + kRow + x] = centreWeight * bytes[e1 + eRow + x]!;
        }
      }
      const eStart = (ty0 + border) * ew + tx0 + border - eBase;
      for (let dy = 0; dy <= sh; dy++) {
        for (let dx = -sh; dx <= sh; dx++) {
          if (dy === 0 && dx <= 0) continue;
          const qy0 = ty0 - dy;
          const qh = th + dy;
          const qx0 = tx0 - (dx > 0 ? dx : 0);
          const qw = tw + (dx < 0 ? -dx : dx);
          const dw = qw + 2 * t;
          const dOff = dy * ew + dx;
          const start = (qy0 - t + border) * ew + qx0 - t + border - eBase;
          k.dpass(e0, e1, two, dBuf, qh + 2 * t, dw, ew, dOff, start);
          k.vpass(dBuf, vBuf, qh, dw, tw2);
          k.hpass(vBuf, wBuf, qh, qw, dw, tw2, table, shift);
          k.accum(wBuf, e0, e1, two, den, n0, n1, th, tw, ks, qw, dy, dx, tx0 - qx0, eStart, ew, dOff);
        }
      }
      for (let y = 0; y < th; y++) {
        const oRow = (ty0 + y) * width + tx0;
        const kRow = y * ks;
        for (let x = 0; x < tw; x++) {
          const d = ints[(den >> 2) + kRow + x]!;
          const half = d >>> 1;
          const v0 = Math.floor(((ints[(n0 >> 2) + kRow + x]! >>> 0) + half) / d);
          outPlanes[0]![oRow + x] = v0 > 255 ? 255 : v0;
          if (two) {
            const v1 = Math.floor(((ints[(n1 >> 2) + kRow + x]! >>> 0) + half) / d);
            outPlanes[1]![oRow + x] = v1 > 255 ? 255 : v1;
          }
        }
      }
    }
  }
}
